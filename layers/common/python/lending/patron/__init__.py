"""The patron space's door: sign-in, my loans, history, returns and the online reader (HTML pages)."""
