"""Payment gateway adapters: each implements `slotbook.domain.gateway.PaymentGateway`."""
