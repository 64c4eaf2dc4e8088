from lifeline_client.cli import main

main()
