"""The download doors: a GET of a signed, time-limited link (a loan's file, an ONIX update file)."""
