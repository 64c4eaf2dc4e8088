"""Exit surveys: the questions an admin configures and the answers customers and reps give."""
