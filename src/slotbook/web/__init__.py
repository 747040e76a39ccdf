"""Server-rendered pages: the customer's booking flow and the provider's bookings."""
