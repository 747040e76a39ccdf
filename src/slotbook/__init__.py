"""slotbook: slot booking with an atomic hold, up-front payment and escrow."""

__version__ = "0.1.0"
