"""Delivery for the Cloudinary emulator: URL parsing, transformations, generated media, captions.

Images are drawn with Pillow on request (nothing is stored): a background and a shape in the
asset's `color` metadata, the shape by product category, the SKU in big letters and
`#sequence · type · v<version>` under it, so every asset (and every new version) looks
different. Supported transformation parameters: `w_`, `h_` (pixels, or a fraction ≤ 1 of the
current size), `c_` (scale, fit, limit, mfit, fill, lfill, fill_pad, crop, thumb, auto, pad,
lpad, mpad), `f_` (jpg, png, webp, gif, auto: webp when the Accept header allows it),
`q_` (1–100 or auto), `dpr_`, `g_auto` (content-aware: the crop follows the picture's dominant
region — its product shape; with `c_auto` the crop is that region, scaled to the size asked);
other known parameters are accepted and ignored. Segments are chained with `/`.

Videos are real H.264 (Baseline, I_PCM intra frame then skipped P frames) in an MP4 container,
built by hand in `video_bytes` below: 320×180, 12 fps, 2 s, a still frame in the asset's color.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import struct

from PIL import Image, ImageDraw, ImageFont

from .state import Asset, Cloud

MAX_PIXELS = 25_000_000
MAX_SIDE = 8000
IMAGE_FORMATS = {
    "jpg": ("JPEG", "image/jpeg"),
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "gif": ("GIF", "image/gif"),
}
CROPS = {
    "scale",
    "fit",
    "limit",
    "mfit",
    "fill",
    "lfill",
    "fill_pad",
    "crop",
    "thumb",
    "auto",
    "pad",
    "lpad",
    "mpad",
}
IGNORED = {"g", "e", "b", "fl", "t", "x", "y", "r", "a", "o", "bo", "co", "d", "pg", "z", "ar"}
IGNORED |= {"so", "eo", "du", "vc", "ac", "br", "fps", "l", "u", "if", "sp", "cs", "dn"}
_COMPONENT = re.compile(r"^([a-z]{1,3})_(.+)$")
_VERSION = re.compile(r"^v\d+$")

NOUNS = {
    "shoes": "sneaker",
    "shirts": "shirt",
    "bags": "bag",
    "hats": "hat",
    "jackets": "jacket",
    "socks": "pair of socks",
}


# -- URL parsing ----------------------------------------------------------------------------
def parse_segment(segment: str) -> dict | None:
    """A transformation segment as {key: value}, or None if it is not one."""
    out = {}
    for comp in segment.split(","):
        m = _COMPONENT.match(comp)
        if not m:
            return None
        out[m.group(1)] = m.group(2)
    return out


def _validate(step: dict) -> tuple:
    for key, value in step.items():
        if key in ("w", "h"):
            try:
                v = float(value)
            except ValueError:
                raise ValueError(f"invalid {key}_{value}") from None
            if v <= 0:
                raise ValueError(f"invalid {key}_{value}")
        elif key == "c":
            if value not in CROPS:
                raise ValueError(f"invalid crop mode c_{value}")
        elif key == "f":
            if value not in IMAGE_FORMATS and value not in ("auto", "mp4"):
                raise ValueError(f"invalid format f_{value}")
        elif key == "q":
            if not (value.startswith("auto") or (value.isdigit() and 1 <= int(value) <= 100)):
                raise ValueError(f"invalid quality q_{value}")
        elif key == "dpr":
            try:
                if not 0 < float(value) <= 5:
                    raise ValueError
            except ValueError:
                if value != "auto":
                    raise ValueError(f"invalid dpr_{value}") from None
        elif key not in IGNORED:
            raise ValueError(f"unknown parameter {key}_{value}")
    return tuple(sorted(step.items()))


def resolve(cloud: Cloud, rtype: str, rest: list[str]):
    """(asset, steps, ext) for the path after /{cloud}/{rtype}/upload/, or None if unknown."""
    if not rest:
        return None
    last = rest[-1]
    stem, dot, ext = last.rpartition(".")
    names = [(rest[:-1] + [stem], ext.lower())] if dot and stem else []
    names.append((rest, None))
    for segs, ext_ in names:
        # a version segment ends the transformations
        for i, seg in enumerate(segs):
            if _VERSION.match(seg):
                if all(parse_segment(s) is not None for s in segs[:i]):
                    asset = cloud.find(rtype, "upload", "/".join(segs[i + 1 :]))
                    if asset is not None:
                        return asset, tuple(_validate(parse_segment(s)) for s in segs[:i]), ext_
                break
        for i in range(len(segs)):
            if i and parse_segment(segs[i - 1]) is None:
                break
            asset = cloud.find(rtype, "upload", "/".join(segs[i:]))
            if asset is not None:
                return asset, tuple(_validate(parse_segment(s)) for s in segs[:i]), ext_
    return None


# -- what an asset looks like ---------------------------------------------------------------
def asset_colors(cloud: Cloud, asset: Asset) -> tuple:
    """A hashable snapshot of everything the rendering needs (taken under the state lock)."""
    from .seed import COLOR_RGB

    label = None
    cid = asset.metadata.get("color")
    if isinstance(cid, str):
        label = cloud.datasource_label("color", cid)
    digest = hashlib.sha1(asset.asset_id.encode()).digest()  # noqa: S324
    rgb = COLOR_RGB.get(label or "", (digest[0], digest[1], digest[2]))
    kind = cloud.datasource_label("asset_type", asset.metadata.get("asset_type") or "") or ""
    category = asset.asset_folder.rsplit("/", 1)[-1] if asset.asset_folder else ""
    sku = asset.metadata.get("sku") or asset.filename
    seq = asset.metadata.get("sequence_number")
    return (
        asset.asset_id,
        asset.version,
        asset.width,
        asset.height,
        asset.format,
        rgb,
        kind,
        category,
        str(sku),
        seq,
        digest[3],
    )


def caption(cloud: Cloud, asset: Asset) -> str:
    """A deterministic "AI" caption from the asset's metadata."""
    color = cloud.datasource_label("color", asset.metadata.get("color") or "")
    kind = cloud.datasource_label("asset_type", asset.metadata.get("asset_type") or "")
    category = asset.asset_folder.rsplit("/", 1)[-1] if asset.asset_folder else ""
    noun = NOUNS.get(category)
    c = color.lower() if color else None
    if kind == "swatch":
        return f"A close-up of {c or 'a'} fabric swatch" if c else "A close-up of a fabric swatch"
    if noun and kind == "lifestyle":
        return f"A person with a {c + ' ' if c else ''}{noun} outdoors"
    if noun:
        return f"A {c + ' ' if c else ''}{noun} on a white background"
    if c:
        return f"A {c} object on a plain background"
    return "A photograph on a plain background"


# -- geometry -------------------------------------------------------------------------------
def geometry(width: int, height: int, steps: tuple) -> tuple[int, int, str]:
    """Final (w, h, how) after the chain; `how` says how the last resize placed the content:
    'fit' (aspect kept), 'fill' (cropped to cover), 'pad' (letterboxed), 'stretch'."""
    W, H, how = width, height, "fit"
    for step in steps:
        d = dict(step)
        if "w" not in d and "h" not in d:
            continue
        dpr = float(d["dpr"]) if d.get("dpr") not in (None, "auto") else 1.0
        w = _dim(d.get("w"), W)
        h = _dim(d.get("h"), H)
        if w:
            w = max(1, round(w * dpr))
        if h:
            h = max(1, round(h * dpr))
        mode = d.get("c", "scale")
        if w is None:
            w = max(1, round(W * h / H))
            only = True
        elif h is None:
            h = max(1, round(H * w / W))
            only = True
        else:
            only = False
        if mode == "scale":
            W, H, how = w, h, ("fit" if only else "stretch")
        elif mode in ("fit", "limit", "mfit"):
            s = min(w / W, h / H)
            if (mode == "limit" and s >= 1) or (mode == "mfit" and s <= 1):
                continue
            W, H, how = max(1, round(W * s)), max(1, round(H * s)), "fit"
        elif mode in ("pad", "lpad", "mpad", "fill_pad"):
            W, H, how = w, h, ("fit" if only else "pad")
        elif mode == "lfill" and w >= W and h >= H:
            continue
        elif mode == "crop":
            W, H, how = min(w, W), min(h, H), "fill"
        else:  # fill, lfill, thumb, auto
            W, H, how = w, h, "fill"
        if W > MAX_SIDE or H > MAX_SIDE or W * H > MAX_PIXELS:
            raise ValueError(f"Requested image size {W}x{H} exceeds the maximum allowed")
    return W, H, how


def _dim(value, current: int) -> int | None:
    if value is None:
        return None
    v = float(value)
    return max(1, round(v * current)) if v <= 1 and "." in str(value) else int(v)


# -- rendering ------------------------------------------------------------------------------
def render(asset: Asset, colors: tuple, steps: tuple, ext: str | None, accept: str):
    """(bytes, mimetype) of the asset delivered with `steps`, as `ext` or its own format."""
    fmt = ext or asset.format
    quality = 90
    for step in steps:
        d = dict(step)
        if "f" in d:
            fmt = d["f"]
        if "q" in d:
            quality = 80 if d["q"].startswith("auto") else int(d["q"])
    if fmt == "auto":
        fmt = "webp" if "image/webp" in accept else ("png" if asset.format == "png" else "jpg")
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"Unsupported format {fmt}")
    return _render_cached(colors, steps, fmt, quality)


def _gravity_auto(steps: tuple) -> str | None:
    """The crop mode of the last resizing step when it has `g_auto` (content-aware), else None."""
    for step in reversed(steps):
        d = dict(step)
        if "w" in d or "h" in d:
            return d.get("c", "scale") if str(d.get("g", "")).startswith("auto") else None
    return None


def _dominant_region(img: Image.Image) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """What `g_auto` finds in the emulator's pictures: the product, i.e. the pixels of the most
    common colour that is not the background (the corner's). (bbox, centroid) in `img` pixels;
    the whole image when nothing stands out."""
    small = img.copy()
    small.thumbnail((120, 120))
    sw, sh = small.size
    px = small.load()
    background = px[0, 0]

    def far(a, b, limit):
        return sum(abs(x - y) for x, y in zip(a, b, strict=False)) > limit

    counts: dict[tuple, int] = {}
    for y in range(sh):
        for x in range(sw):
            c = px[x, y]
            if far(c, background, 30):
                counts[c] = counts.get(c, 0) + 1
    if not counts:
        return (0, 0, img.width, img.height), (img.width / 2, img.height / 2)
    dominant = max(counts, key=counts.get)
    # Pixels of that colour (closer to it than half its distance to the background).
    near = min(40, sum(abs(x - y) for x, y in zip(dominant, background, strict=False)) // 2)
    xs, ys = [], []
    for y in range(sh):
        for x in range(sw):
            if not far(px[x, y], dominant, near):
                xs.append(x)
                ys.append(y)
    fx, fy = img.width / sw, img.height / sh
    xs.sort()
    ys.sort()
    cut = len(xs) // 20  # 5 % each side: stray anti-aliased pixels of the label do not count
    box = (
        int(xs[cut] * fx),
        int(ys[cut] * fy),
        int((xs[-1 - cut] + 1) * fx),
        int((ys[-1 - cut] + 1) * fy),
    )
    return box, (sum(xs) / len(xs) * fx, sum(ys) / len(ys) * fy)


def _window(cw, ch, W, H, center) -> tuple[int, int, int, int]:
    """A W×H window of a cw×ch image centred on `center`, kept inside the image."""
    left = min(max(0, round(center[0] - W / 2)), cw - W)
    top = min(max(0, round(center[1] - H / 2)), ch - H)
    return left, top, left + W, top + H


@functools.lru_cache(maxsize=128)
def _render_cached(colors: tuple, steps: tuple, fmt: str, quality: int):
    _, version, width, height, _, rgb, kind, category, sku, seq, salt = colors
    W, H, how = geometry(width, height, steps)
    gravity = _gravity_auto(steps)
    if how == "fill" and gravity == "auto":
        # c_auto,g_auto: the dominant region, as large as fits in it at W:H, scaled to W×H.
        s = min(1.0, 1000 / max(width, height))  # drawn at most 1000 px wide: same picture
        cw, ch = max(1, round(width * s)), max(1, round(height * s))
        full = _compose(cw, ch, rgb, kind, category, sku, seq, version, salt)
        (x0, y0, x1, y1), center = _dominant_region(full)
        ww = max(1, min(x1 - x0, round((y1 - y0) * W / H)))
        wh = max(1, round(ww * H / W))
        window = _window(cw, ch, min(ww, cw), min(wh, ch), center)
        img = full.crop(window).resize((W, H), Image.Resampling.LANCZOS)
    elif how == "fill" and gravity is not None:
        # fill, lfill, thumb, crop with g_auto: cover W×H, the window on the dominant region.
        s = max(W / width, H / height)
        cw, ch = max(W, round(width * s)), max(H, round(height * s))
        img = _compose(cw, ch, rgb, kind, category, sku, seq, version, salt)
        img = img.crop(_window(cw, ch, W, H, _dominant_region(img)[1]))
    elif how == "fill":
        s = max(W / width, H / height)
        cw, ch = max(W, round(width * s)), max(H, round(height * s))
        img = _compose(cw, ch, rgb, kind, category, sku, seq, version, salt)
        left, top = (cw - W) // 2, (ch - H) // 2
        img = img.crop((left, top, left + W, top + H))
    elif how == "pad":
        s = min(W / width, H / height)
        cw, ch = max(1, round(width * s)), max(1, round(height * s))
        inner = _compose(cw, ch, rgb, kind, category, sku, seq, version, salt)
        img = Image.new("RGB", (W, H), (255, 255, 255))
        img.paste(inner, ((W - cw) // 2, (H - ch) // 2))
    else:
        img = _compose(W, H, rgb, kind, category, sku, seq, version, salt)
    pil_format, mimetype = IMAGE_FORMATS[fmt]
    buf = io.BytesIO()
    if pil_format == "JPEG":
        img.save(buf, "JPEG", quality=quality)
    elif pil_format == "WEBP":
        img.save(buf, "WEBP", quality=quality)
    elif pil_format == "GIF":
        img.convert("P", palette=Image.Palette.ADAPTIVE).save(buf, "GIF")
    else:
        img.save(buf, "PNG", compress_level=1)
    return buf.getvalue(), mimetype


def _font(size: int):
    return _font_cached(max(6, min(400, int(size))))


@functools.lru_cache(maxsize=64)
def _font_cached(size: int):
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()
    if isinstance(font, ImageFont.FreeTypeFont):
        # A text's glyph mask is the same every time it is drawn at this size: drawn once.
        # Five images of a product share its SKU and most share their label, and drawing the
        # glyphs was ~40 % of the CPU an image took to render. Same pixels, byte for byte.
        font.getmask2 = functools.lru_cache(maxsize=512)(font.getmask2)
    return font


def _mix(rgb, other, t: float):
    return tuple(round(a + (b - a) * t) for a, b in zip(rgb, other, strict=False))


def _compose(w, h, rgb, kind, category, sku, seq, version, salt) -> Image.Image:
    m = min(w, h)
    dark = sum(rgb) < 360
    ink = (255, 255, 255) if dark else (20, 20, 20)
    if kind == "swatch":
        img = Image.new("RGB", (w, h), rgb)
        d = ImageDraw.Draw(img)
        step = max(4, m // 12)
        stripe = _mix(rgb, (0, 0, 0) if not dark else (255, 255, 255), 0.18)
        for x in range(-h, w, step * 3):
            d.polygon([(x, 0), (x + step, 0), (x + step + h, h), (x + h, h)], fill=stripe)
    elif kind == "lifestyle":
        img = Image.new("RGB", (w, h), _mix(rgb, (255, 255, 255), 0.55))
        d = ImageDraw.Draw(img)
        for y in range(0, h, max(1, h // 32)):
            d.rectangle((0, y, w, y + max(1, h // 32)), fill=_mix(rgb, (40, 40, 40), y / h * 0.6))
        # a stick figure
        cx = w * (0.3 + (salt % 40) / 100)
        d.ellipse((cx - m * 0.08, h * 0.2, cx + m * 0.08, h * 0.2 + m * 0.16), fill=ink)
        d.line((cx, h * 0.2 + m * 0.16, cx, h * 0.7), fill=ink, width=max(1, m // 40))
        d.line((cx - m * 0.15, h * 0.45, cx + m * 0.15, h * 0.45), fill=ink, width=max(1, m // 50))
        ink = (255, 255, 255)
    else:
        img = Image.new("RGB", (w, h), (250, 250, 250))
        d = ImageDraw.Draw(img)
        _shape(d, w, h, category, rgb, salt)
    d = ImageDraw.Draw(img)
    big = _font(m / max(5.5, len(sku) * 0.62))
    small = _font(m / 16)
    label = f"#{seq} · {kind or 'asset'} · v{version}" if seq else f"{kind or 'asset'} · v{version}"
    text_ink = (20, 20, 20) if kind not in ("swatch", "lifestyle") else ink
    box = (w / 2, h * 0.80)
    d.text(box, sku, fill=text_ink, font=big, anchor="mm")
    d.text((w / 2, h * 0.92), label, fill=text_ink, font=small, anchor="mm")
    return img


def _shape(d: ImageDraw.ImageDraw, w, h, category, rgb, salt) -> None:
    m = min(w, h)
    cx, cy = w / 2 + (salt % 21 - 10) / 100 * w, h * 0.42
    s = m * 0.30
    if category == "shoes":
        d.polygon(
            [
                (cx - s * 1.3, cy + s * 0.5),
                (cx - s * 1.3, cy - s * 0.1),
                (cx - s * 0.4, cy - s * 0.2),
                (cx, cy - s * 0.7),
                (cx + s * 0.4, cy - s * 0.6),
                (cx + s * 1.3, cy + s * 0.1),
                (cx + s * 1.3, cy + s * 0.5),
            ],
            fill=rgb,
            outline=(40, 40, 40),
        )
    elif category == "shirts" or category == "jackets":
        d.polygon(
            [
                (cx - s * 0.5, cy - s),
                (cx - s * 1.2, cy - s * 0.5),
                (cx - s * 0.9, cy - s * 0.1),
                (cx - s * 0.6, cy - s * 0.3),
                (cx - s * 0.6, cy + s),
                (cx + s * 0.6, cy + s),
                (cx + s * 0.6, cy - s * 0.3),
                (cx + s * 0.9, cy - s * 0.1),
                (cx + s * 1.2, cy - s * 0.5),
                (cx + s * 0.5, cy - s),
            ],
            fill=rgb,
            outline=(40, 40, 40),
        )
        if category == "jackets":
            d.line((cx, cy - s, cx, cy + s), fill=(40, 40, 40), width=max(1, m // 150))
    elif category == "bags":
        d.rounded_rectangle(
            (cx - s, cy - s * 0.5, cx + s, cy + s), radius=s * 0.2, fill=rgb, outline=(40, 40, 40)
        )
        d.arc(
            (cx - s * 0.5, cy - s * 1.1, cx + s * 0.5, cy),
            180,
            360,
            fill=(40, 40, 40),
            width=max(1, m // 80),
        )
    elif category == "hats":
        d.pieslice((cx - s, cy - s, cx + s, cy + s), 180, 360, fill=rgb, outline=(40, 40, 40))
        d.rectangle((cx - s * 1.4, cy - s * 0.05, cx + s * 1.4, cy + s * 0.1), fill=rgb)
    elif category == "socks":
        d.polygon(
            [
                (cx - s * 0.4, cy - s),
                (cx + s * 0.2, cy - s),
                (cx + s * 0.2, cy + s * 0.3),
                (cx + s * 0.9, cy + s * 0.3),
                (cx + s * 0.9, cy + s * 0.9),
                (cx - s * 0.4, cy + s * 0.9),
            ],
            fill=rgb,
            outline=(40, 40, 40),
        )
    else:
        d.ellipse((cx - s, cy - s, cx + s, cy + s), fill=rgb, outline=(40, 40, 40))


# -- video: a hand-built H.264 / MP4 file -----------------------------------------------------
VIDEO_W, VIDEO_H, VIDEO_FPS, VIDEO_FRAMES = 320, 180, 12, 24
_CODED_H = 192  # 12 macroblock rows; the SPS crops the bottom 12 lines


_CLAMP = bytes(min(254, max(1, v)) for v in range(256))


class _Bits:
    def __init__(self):
        self.out = bytearray()
        self.cur = 0
        self.n = 0

    def u(self, nbits: int, value: int) -> None:
        for i in range(nbits - 1, -1, -1):
            self.cur = (self.cur << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.cur)
                self.cur = self.n = 0

    def ue(self, value: int) -> None:
        v = value + 1
        length = v.bit_length()
        self.u(length - 1, 0)
        self.u(length, v)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while self.n:
            self.u(1, 0)

    def raw(self, data: bytes) -> None:
        assert self.n == 0
        self.out += data

    def trailing(self) -> bytes:
        self.u(1, 1)
        self.align_zero()
        return bytes(self.out)


def _nal(ref_idc: int, nal_type: int, rbsp: bytes) -> bytes:
    out = bytearray([(ref_idc << 5) | nal_type])
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _sps() -> bytes:
    b = _Bits()
    b.u(8, 66)  # Baseline
    b.u(8, 0xC0)  # constraint_set0/1
    b.u(8, 30)  # level 3.0
    b.ue(0)  # sps id
    b.ue(0)  # log2_max_frame_num - 4
    b.ue(2)  # pic_order_cnt_type
    b.ue(1)  # max_num_ref_frames
    b.u(1, 0)
    b.ue(VIDEO_W // 16 - 1)
    b.ue(_CODED_H // 16 - 1)
    b.u(1, 1)  # frame_mbs_only
    b.u(1, 1)  # direct_8x8_inference
    b.u(1, 1)  # frame_cropping
    b.ue(0)
    b.ue(0)
    b.ue(0)
    b.ue((_CODED_H - VIDEO_H) // 2)
    b.u(1, 0)  # no VUI
    return _nal(3, 7, b.trailing())


def _pps() -> bytes:
    b = _Bits()
    b.ue(0)
    b.ue(0)
    b.u(1, 0)  # CAVLC
    b.u(1, 0)
    b.ue(0)  # slice groups
    b.ue(0)
    b.ue(0)
    b.u(1, 0)
    b.u(2, 0)
    b.se(0)
    b.se(0)
    b.se(0)
    b.u(1, 0)  # deblocking control absent
    b.u(1, 0)
    b.u(1, 0)
    return _nal(3, 8, b.trailing())


def _idr(img: Image.Image) -> bytes:
    y_plane, cb_plane, cr_plane = img.convert("YCbCr").split()
    cw = VIDEO_W // 2

    def samples(plane: Image.Image) -> bytes:
        return plane.tobytes().translate(_CLAMP)

    y = samples(y_plane)
    cb_small = samples(cb_plane.resize((cw, _CODED_H // 2)))
    cr_small = samples(cr_plane.resize((cw, _CODED_H // 2)))
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(7)  # I slice
    b.ue(0)  # pps id
    b.u(4, 0)  # frame_num
    b.ue(0)  # idr_pic_id
    b.u(1, 0)  # no_output_of_prior_pics
    b.u(1, 0)  # long_term_reference
    b.se(0)  # slice_qp_delta
    for my in range(_CODED_H // 16):
        for mx in range(VIDEO_W // 16):
            b.ue(25)  # I_PCM
            b.align_zero()
            luma = bytearray()
            for row in range(16):
                start = (my * 16 + row) * VIDEO_W + mx * 16
                luma += y[start : start + 16]
            chroma = bytearray()
            for plane in (cb_small, cr_small):
                for row in range(8):
                    start = (my * 8 + row) * cw + mx * 8
                    chroma += plane[start : start + 8]
            b.raw(bytes(luma) + bytes(chroma))
    return _nal(3, 5, b.trailing())


def _p_skip(frame_num: int) -> bytes:
    b = _Bits()
    b.ue(0)
    b.ue(5)  # P slice
    b.ue(0)
    b.u(4, frame_num % 16)
    b.u(1, 0)  # num_ref_idx_active_override
    b.u(1, 0)  # ref_pic_list_modification_flag_l0
    b.u(1, 0)  # adaptive_ref_pic_marking_mode
    b.se(0)
    b.ue((VIDEO_W // 16) * (_CODED_H // 16))  # mb_skip_run: every macroblock
    return _nal(2, 1, b.trailing())


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _mp4(sps: bytes, pps: bytes, samples: list[bytes]) -> bytes:
    n = len(samples)
    duration_ms = n * 1000 // VIDEO_FPS

    def moov(offset: int) -> bytes:
        avcc = _box(
            b"avcC",
            bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
            struct.pack(">H", len(sps)),
            sps,
            bytes([1]),
            struct.pack(">H", len(pps)),
            pps,
        )
        avc1 = _box(
            b"avc1",
            bytes(6),
            struct.pack(">H", 1),
            bytes(16),
            struct.pack(">HH", VIDEO_W, VIDEO_H),
            struct.pack(">II", 0x480000, 0x480000),
            bytes(4),
            struct.pack(">H", 1),
            bytes(32),
            struct.pack(">Hh", 0x18, -1),
            avcc,
        )
        stbl = _box(
            b"stbl",
            _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
            _full(b"stts", 0, 0, struct.pack(">III", 1, n, 1)),
            _full(b"stss", 0, 0, struct.pack(">II", 1, 1)),
            _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, n, 1)),
            _full(
                b"stsz",
                0,
                0,
                struct.pack(">II", 0, n),
                b"".join(struct.pack(">I", len(s)) for s in samples),
            ),
            _full(b"stco", 0, 0, struct.pack(">II", 1, offset)),
        )
        minf = _box(
            b"minf",
            _full(b"vmhd", 0, 1, bytes(8)),
            _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1))),
            stbl,
        )
        mdia = _box(
            b"mdia",
            _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, VIDEO_FPS, n, 0x55C4, 0)),
            _full(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00"),
            minf,
        )
        tkhd = _full(
            b"tkhd",
            0,
            3,
            struct.pack(">IIIII", 0, 0, 1, 0, duration_ms),
            bytes(8),
            struct.pack(">hhhH", 0, 0, 0, 0),
            _MATRIX,
            struct.pack(">II", VIDEO_W << 16, VIDEO_H << 16),
        )
        mvhd = _full(
            b"mvhd",
            0,
            0,
            struct.pack(">IIII", 0, 0, 1000, duration_ms),
            struct.pack(">IH", 0x10000, 0x100),
            bytes(10),
            _MATRIX,
            bytes(24),
            struct.pack(">I", 2),
        )
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    head = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(head) + _box(b"mdat", *samples)


@functools.lru_cache(maxsize=32)
def video_bytes(asset_id: str, version: int, colors: tuple) -> bytes:
    """A 2-second 320×180 H.264 MP4 showing the asset's color, SKU and version."""
    rgb, sku, seq = colors[5], colors[8], colors[9]
    img = Image.new("RGB", (VIDEO_W, _CODED_H), rgb)
    d = ImageDraw.Draw(img)
    dark = sum(rgb) < 360
    ink = (255, 255, 255) if dark else (20, 20, 20)
    d.polygon([(130, 50), (130, 130), (200, 90)], fill=ink)  # a "play" triangle
    d.text(
        (VIDEO_W / 2, 150), f"{sku} #{seq or ''} v{version}", fill=ink, font=_font(16), anchor="mm"
    )
    samples = [struct.pack(">I", len(nal)) + nal for nal in [_idr(img)]]
    for k in range(1, VIDEO_FRAMES):
        nal = _p_skip(k)
        samples.append(struct.pack(">I", len(nal)) + nal)
    return _mp4(_sps(), _pps(), samples)
