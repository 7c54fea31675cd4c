"""`make bench`: measure the real stack (API, session host, Chromium) against the simulator."""
