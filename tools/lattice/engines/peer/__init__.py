"""schemathesis against the app on the contract suite's transport, and the gate on its findings."""
