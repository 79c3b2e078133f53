"""Fetch the official BDPM files into ``<raw>/bdpm/<today>/``.

Files are downloaded into a temporary folder next to the target and moved in
place only when every required file arrived, so an interrupted download never
leaves a half snapshot behind. The availability file (CIS_CIP_Dispo_Spec) is
kept apart, in the snapshot archive (``datamed.sources.archive``): dated,
checksummed and never overwritten, since its history exists only there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from datamed import __version__
from datamed.core import config
from datamed.sources import archive

BDPM_FILES = (
    "CIS_bdpm.txt",
    "CIS_CIP_bdpm.txt",
    "CIS_COMPO_bdpm.txt",
    "CIS_GENER_bdpm.txt",
    "CIS_CPD_bdpm.txt",
    "CIS_HAS_SMR_bdpm.txt",
    "CIS_HAS_ASMR_bdpm.txt",
    "HAS_LiensPageCT_bdpm.txt",
    "CIS_CIP_Dispo_Spec.txt",
    "CIS_MITM.txt",
    "CIS_InfoImportantes.txt",
)
REQUIRED = {"CIS_bdpm.txt"}
MAX_BYTES = 200 * 1024 * 1024


class DownloadError(Exception):
    pass


@dataclass
class DownloadResult:
    folder: Path
    files: dict[str, int] = field(default_factory=dict)  # name -> bytes
    missing: dict[str, str] = field(default_factory=dict)  # name -> reason
    archived: Path | None = None  # the availability file in the archive
    archived_new: bool = False  # False: the same content was already archived today


def base_url() -> str:
    return os.environ.get("DATAMED_BDPM_URL", config.BDPM_BASE_URL + "/download/file/")


def _fetch(url: str, dest: Path, timeout: float) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": f"DataMed/{__version__}"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        size = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            if size > MAX_BYTES:
                raise DownloadError(f"{url}: larger than {MAX_BYTES // 2**20} MiB, refusing")
            out.write(chunk)
    return size


def download(
    raw_dir: Path | None = None,
    url: str | None = None,
    today: date | None = None,
    timeout: float = 30,
    fetched_at: datetime | None = None,
) -> DownloadResult:
    raw_dir = Path(raw_dir or config.DEFAULT_DOWNLOAD_DIR)
    url = url or base_url()
    if not url.endswith("/"):
        url += "/"
    fetched_at = fetched_at or datetime.now(UTC)
    target = raw_dir / "bdpm" / (today or fetched_at.date()).isoformat()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    result = DownloadResult(target)
    try:
        for name in BDPM_FILES:
            try:
                result.files[name] = _fetch(url + name, tmp / name, timeout)
            except urllib.error.HTTPError as exc:
                (tmp / name).unlink(missing_ok=True)
                result.missing[name] = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DownloadError(
                    f"cannot reach {url} ({reason}). Are you offline? "
                    "Use `python -m datamed build --raw DIR` with a local raw folder instead."
                ) from exc
            if name in result.files and result.files[name] == 0:
                (tmp / name).unlink(missing_ok=True)
                del result.files[name]
                result.missing[name] = "empty response"
        lacking = REQUIRED - set(result.files)
        if lacking:
            raise DownloadError(f"required file(s) not available from {url}: {', '.join(sorted(lacking))}")
        dispo = tmp / archive.STEM
        dispo = dispo.with_suffix(".txt")
        if dispo.is_file():
            result.archived, result.archived_new = archive.archive(raw_dir, dispo, fetched_at)
            dispo.unlink()
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return result
