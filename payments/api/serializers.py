from rest_framework import serializers


class OrderSerializer(serializers.Serializer):
    order_id = serializers.CharField(help_text="PayPal order id.")
    approve_url = serializers.URLField(help_text="Send the patient here to approve the payment in PayPal.")


class WebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["applied", "duplicate"])
