"""The local stack: emulated AWS on loopback, the routes of template.yaml served by invoking the
real handlers, schedules on timers, queue pollers. Not shipped in the layer (tools/build.py)."""
