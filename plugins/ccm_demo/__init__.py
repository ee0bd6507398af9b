"""The embedded demo organisation: a seeded company, stand-ins serving its APIs, a runner."""
