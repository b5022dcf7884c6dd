"""Signal receivers of the tracking app; they connect, they do not compute."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from tracking import realtime
from tracking.models import TelemetrySample


@receiver(post_save, sender=TelemetrySample, dispatch_uid="publish_telemetry_sample")
def publish_new_sample(
    sender, instance: TelemetrySample, created: bool, **kwargs
) -> None:
    if created and not kwargs.get("raw"):
        realtime.publish_after_commit(instance)
