"""The simulated company, one module per system. Each module generates its part of the
world from the shared roster, writes it under the demo directory, and answers "what was
the state at time T" for both the stand-ins (to serve the API) and the answer key."""
