"""getUserAgent: the reading applications the hub's DRM serves, per DRM.

A library system (PMB) offers this list to its patrons and sends the chosen `userAgentId` back in
loanBook's `DRMinfo.userAgent`. The hub is becoming a Readium LCP server, so the list is the LCP
reading applications, and one entry for files without DRM (the hub's EPUBs today: CONTRACT 3,
`protection` NONE), which any EPUB reader opens. The ids are stable: patrons' choices are stored by them."""

from __future__ import annotations

from .values import Value


class Drm(Value):
    id: str
    label: str

    def __init__(self, id: str, label: str) -> None:
        self._init(id, label)


LCP = Drm("LCP", "Readium LCP")
NONE = Drm("NONE", "Sans DRM / No DRM")


class UserAgent(Value):
    id: str  # userAgentId
    name: str  # appName, what a patron picks from
    drm: Drm
    platforms: tuple[str, ...]

    def __init__(self, id: str, name: str, drm: Drm, platforms: tuple[str, ...]) -> None:
        self._init(id, name, drm, platforms)


USER_AGENTS: tuple[UserAgent, ...] = (
    UserAgent("lcp-thorium-reader", "Thorium Reader", LCP, ("Windows", "macOS", "Linux")),
    UserAgent("lcp-aldiko-next", "Aldiko Next", LCP, ("iOS", "Android")),
    UserAgent("lcp-palace", "Palace", LCP, ("iOS", "Android")),
    UserAgent("none-epub-reader", "Any EPUB reader (no DRM)", NONE, ("Windows", "macOS", "Linux", "iOS", "Android")),
)


def listing() -> list[dict[str, object]]:
    """The answer's `listUserAgent`, in the spec's names (PMB reads userAgentId and appName), sorted by
    name as PMB shows it."""
    return [{"userAgentId": u.id, "appName": u.name, "drmId": u.drm.id, "drmLabel": u.drm.label,
             "platforms": list(u.platforms)} for u in sorted(USER_AGENTS, key=lambda u: u.name.lower())]


def known(user_agent_id: str) -> bool:
    return drm_of(user_agent_id) is not None


def drm_of(user_agent_id: str) -> Drm | None:
    """The DRM a listed reading application opens; None for an id the list does not have (an older
    list a library system cached, another hub's id): such a loan is still made, the id kept as sent."""
    return next((u.drm for u in USER_AGENTS if u.id == user_agent_id), None)
