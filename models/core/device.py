"""The one place that picks the device and dtype.

CPU runs in float32 (bf16 matmuls are slow on most CPUs and fp16 is not supported for
everything); CUDA uses bfloat16 where the card supports it, else float16; Apple MPS uses
float16. Attention walkthroughs and training still compute in float32 where they need to.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import psutil
import torch


@dataclass(frozen=True)
class DeviceInfo:
    kind: str           # "cuda", "mps" or "cpu"
    name: str           # human name, e.g. "NVIDIA H200" or "CPU (2 cores)"
    dtype: torch.dtype  # dtype models are loaded in
    total_bytes: int    # device memory (system RAM for cpu/mps)

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cuda:0" if self.kind == "cuda" else self.kind)

    def describe(self) -> str:
        gib = self.total_bytes / 2**30
        return f"{self.kind.upper()} · {self.name} · {gib:.1f} GiB · {str(self.dtype).replace('torch.', '')}"


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def pick_device(requested: str = "auto") -> DeviceInfo:
    """Resolve "auto" | "cpu" | "cuda" | "mps" to a DeviceInfo; unknown or absent -> ValueError."""
    requested = (requested or "auto").lower()
    if requested not in {"auto", "cpu", "cuda", "mps"}:
        raise ValueError(f"--device must be auto, cpu, cuda or mps, not {requested!r}")
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else ("mps" if _mps_available() else "cpu")
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but this torch build sees no CUDA GPU "
                             "(install a CUDA build of torch first; see README)")
        props = torch.cuda.get_device_properties(0)
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return DeviceInfo("cuda", props.name, dtype, int(props.total_memory))
    if requested == "mps":
        if not _mps_available():
            raise ValueError("--device mps was asked for, but MPS is not available")
        return DeviceInfo("mps", "Apple GPU (MPS)", torch.float16, int(psutil.virtual_memory().total))
    cores = os.cpu_count() or 1
    return DeviceInfo("cpu", f"CPU ({cores} cores)", torch.float32, int(psutil.virtual_memory().total))


def parse_bytes(text: str | int | None) -> int | None:
    """'4GB' / '512MB' / '1.5GiB' / 123 -> bytes. None or '' -> None. Bad text -> ValueError."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return int(text)
    s = str(text).strip().upper().replace(" ", "")
    units = {"TIB": 2**40, "GIB": 2**30, "MIB": 2**20, "KIB": 2**10,
             "TB": 10**12, "GB": 10**9, "MB": 10**6, "KB": 10**3, "T": 10**12, "G": 10**9,
             "M": 10**6, "K": 10**3, "B": 1}
    for unit, factor in units.items():
        if s.endswith(unit):
            number = s[: -len(unit)]
            break
    else:
        number, factor = s, 1
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"cannot read {text!r} as a size; write it like 4GB or 512MB") from None
    if value <= 0:
        raise ValueError(f"a size must be positive, not {text!r}")
    return int(value * factor)


def format_bytes(n: int | float | None) -> str:
    if n is None:
        return "?"
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= factor:
            return f"{n / factor:.1f} {unit}" if n < 10 * factor else f"{n / factor:.0f} {unit}"
    return f"{int(n)} B"
