"""Who works the help desk: users (representatives), teams, issues, embassies, public sites, API accounts."""
