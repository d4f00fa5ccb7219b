"""The library console: server-rendered HTML pages for library staff, one more door over the use cases
(services.staff for signing in, services.console for the rest). Imported by the console function only."""
