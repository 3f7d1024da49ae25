from rest_framework import serializers


class CalendarFeedStatusSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text="Whether a feed URL works now.")
    created_at = serializers.DateTimeField(allow_null=True, help_text="When the working URL was made.")
    last_fetched_at = serializers.DateTimeField(
        allow_null=True, help_text="When a calendar app last fetched it (to the minute)."
    )


class CalendarFeedUrlSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The secret feed URL. Shown only now: store it in the calendar app.")
    webcal_url = serializers.CharField(help_text="The same URL with the webcal:// scheme, which opens calendar apps.")
