"""The versions of nwm_geo and of the installed packages its results depend on.

One reading for every record that keys on versions: the provenance files, the saved
baseline (:mod:`nwm_geo.pipeline`) and the parsed-OSM cache (:mod:`nwm_geo.network`).
"""

from __future__ import annotations

from importlib import metadata

from nwm_geo import __version__

__all__ = ["installed_versions"]


def installed_versions(*names: str) -> dict[str, str]:
    """Return ``{"nwm_geo": version, name: version or "not installed", ...}``.

    Examples
    --------
    >>> from nwm_geo._versions import installed_versions
    >>> sorted(installed_versions("no-such-package-here"))
    ['no-such-package-here', 'nwm_geo']
    >>> installed_versions("no-such-package-here")["no-such-package-here"]
    'not installed'
    """
    out = {"nwm_geo": __version__}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
