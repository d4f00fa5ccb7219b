"""Test doubles: `store.MemoryStore`, the store in memory (use-case unit tests run on it, no emulator)."""
