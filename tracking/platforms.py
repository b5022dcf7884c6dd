"""Registry of the cam platforms the extension reads.

Adding a platform is one entry here plus one content script in the extension.
``token_usd`` is what the studio is paid per token on that platform.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Platform:
    slug: str
    name: str
    token_usd: Decimal


PLATFORMS: dict[str, Platform] = {
    platform.slug: platform
    for platform in (
        Platform("chaturbate", "Chaturbate", Decimal("0.05")),
        Platform("stripchat", "Stripchat", Decimal("0.05")),
        Platform("camsoda", "CamSoda", Decimal("0.05")),
    )
}

PLATFORM_CHOICES = [(platform.slug, platform.name) for platform in PLATFORMS.values()]
