"""What the service's API and the sandbox gateway share over HTTP: request ids, JSON and
problem+json answers, and the outermost middleware. It imports neither of them."""
