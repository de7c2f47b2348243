"""TUF: the instance's repository and the client that fetches trust from it."""
