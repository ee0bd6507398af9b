"""Local stand-ins for the SaaS APIs, serving the demo company on loopback.

They implement the real paths, response shapes, pagination, rate-limit headers and
errors, answer as of the demo's simulated clock, and take fault-injection switches on a
private admin path that extract code never calls.
"""
