"""Session recordings (screen as WebM, command shell as asciicast v2) and the file store."""
