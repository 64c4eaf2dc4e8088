"""Reports: which sessions a report covers and everything logged about them, read in chunks."""
