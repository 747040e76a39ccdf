"""Plain objects and rules of slotbook: no I/O, no framework, no ORM."""
