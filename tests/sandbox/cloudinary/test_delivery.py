"""Delivery URLs serve real, decodable images and videos."""

from __future__ import annotations

import io
import struct

import cloudinary
import cloudinary.utils
import pytest
import requests
from PIL import Image, ImageChops, ImageStat


def fetch(url, **kw):
    return requests.get(url, timeout=10, **kw)


def image(resp):
    assert resp.status_code == 200, resp.text
    return Image.open(io.BytesIO(resp.content))


def product(cloud, **where):
    return next(
        a
        for a in cloud.assets()
        if a.resource_type == "image"
        and all(
            cloud.cloud.datasource_label(k, a.metadata.get(k) or "") == v for k, v in where.items()
        )
    )


def sdk_url(public_id, **options):
    return cloudinary.utils.cloudinary_url(public_id, **options)[0]


def test_original_from_secure_url(cloud):
    a = product(cloud, asset_type="product")
    res = cloudinary.api.resource(a.public_id)
    img = image(fetch(res["secure_url"]))
    assert img.format == "JPEG" and img.size == (a.width, a.height)


@pytest.mark.parametrize(
    "options, size, fmt",
    [
        ({"width": 300, "height": 200, "crop": "fill", "fetch_format": "webp"}, (300, 200), "WEBP"),
        ({"width": 800, "crop": "limit", "fetch_format": "png"}, (800, 800), "PNG"),
        ({"width": 5000, "height": 5000, "crop": "limit", "format": "jpg"}, (2000, 2000), "JPEG"),
        ({"width": 400, "height": 100, "crop": "scale", "fetch_format": "jpg"}, (400, 100), "JPEG"),
        ({"height": 150, "crop": "scale", "format": "png"}, (150, 150), "PNG"),
        ({"width": 300, "height": 200, "crop": "pad", "format": "png"}, (300, 200), "PNG"),
        ({"width": 300, "height": 100, "crop": "fit", "format": "webp"}, (100, 100), "WEBP"),
        (
            {"raw_transformation": "c_limit,w_2048,h_2048,q_auto", "format": "jpg"},
            (2000, 2000),
            "JPEG",
        ),
        (
            {
                "transformation": [
                    {"width": 500, "crop": "scale"},
                    {"width": 100, "height": 50, "crop": "fill"},
                ],
                "format": "png",
            },
            (100, 50),
            "PNG",
        ),
    ],
)
def test_transformations_give_the_requested_size_and_format(cloud, options, size, fmt):
    a = product(cloud, asset_type="product")
    img = image(fetch(sdk_url(a.public_id, **options)))
    assert img.size == size
    assert img.format == fmt


def test_versioned_url_and_quality(cloud):
    a = product(cloud, asset_type="product")
    base = f"{cloud.url}/{cloud.name}/image/upload"
    hi = fetch(f"{base}/w_400,q_95/v{a.version}/{a.public_id}.jpg")
    lo = fetch(f"{base}/w_400,q_10/v{a.version}/{a.public_id}.jpg")
    assert image(hi).size == image(lo).size == (400, 400)
    assert len(lo.content) < len(hi.content)
    assert hi.headers["Content-Type"] == "image/jpeg"


def test_f_auto_follows_the_accept_header(cloud):
    a = product(cloud, asset_type="product")
    url = f"{cloud.url}/{cloud.name}/image/upload/f_auto,w_50/{a.public_id}"
    assert image(fetch(url, headers={"Accept": "image/webp,*/*"})).format == "WEBP"
    assert image(fetch(url, headers={"Accept": "image/*"})).format == "JPEG"


def test_images_differ_per_asset_and_per_version(cloud):
    a, b = [x for x in cloud.assets() if x.resource_type == "image"][:2]
    base = f"{cloud.url}/{cloud.name}/image/upload/w_200,h_200,c_fill/"
    ia = image(fetch(base + a.public_id + ".png")).convert("RGB")
    ib = image(fetch(base + b.public_id + ".png")).convert("RGB")
    assert ImageStat.Stat(ImageChops.difference(ia, ib)).sum != [0, 0, 0]
    # same URL, same bytes
    assert fetch(base + a.public_id + ".png").content == fetch(base + a.public_id + ".png").content
    # a new version changes the picture
    r = cloud.control("POST", f"clouds/{cloud.name}/assets/{a.asset_id}", json={})
    assert r.json()["asset"]["version"] > a.version or r.json()["asset"]["version"] == a.version
    ia2 = image(fetch(base + a.public_id + ".png")).convert("RGB")
    assert ImageStat.Stat(ImageChops.difference(ia, ia2)).sum != [0, 0, 0]


def test_color_metadata_drives_the_picture(cloud):
    swatch = next(a for a in cloud.assets() if a.metadata.get("asset_type") == "asset_type_swatch")
    label = cloud.cloud.datasource_label("color", swatch.metadata["color"])
    from sandbox.cloudinary.seed import COLOR_RGB

    img = image(fetch(f"{cloud.url}/{cloud.name}/image/upload/w_64/{swatch.public_id}.png"))
    _, (r, g, b) = max(img.convert("RGB").getcolors(64 * 64))  # the dominant color
    er, eg, eb = COLOR_RGB[label]
    assert abs(r - er) + abs(g - eg) + abs(b - eb) < 120


def test_unknown_asset_and_bad_transformation(cloud):
    base = f"{cloud.url}/{cloud.name}/image/upload"
    r = fetch(f"{base}/v1/products/nope.jpg")
    assert r.status_code == 404 and "X-Cld-Error" in r.headers
    assert fetch(f"{cloud.url}/nosuchcloud/image/upload/x.jpg").status_code == 404
    a = product(cloud, asset_type="product")
    r = fetch(f"{base}/w_abc/{a.public_id}.jpg")
    assert r.status_code == 400 and "X-Cld-Error" in r.headers
    assert fetch(f"{base}/w_100000,h_100000/{a.public_id}.jpg").status_code == 400
    assert fetch(f"{base}/{a.public_id}.tiff").status_code == 400


def _boxes(data: bytes, start=0, end=None):
    end = len(data) if end is None else end
    out = {}
    i = start
    while i < end:
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        out[kind.decode()] = (i + 8, i + size)
        i += size
    assert i == end
    return out


def test_video_is_a_valid_mp4(cloud):
    v = next(a for a in cloud.assets() if a.resource_type == "video")
    res = cloudinary.api.resource(v.public_id, resource_type="video")
    r = fetch(res["secure_url"])
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
    data = r.content
    top = _boxes(data)
    assert list(top) == ["ftyp", "moov", "mdat"]
    moov = _boxes(data, *top["moov"])
    trak = _boxes(data, *moov["trak"])
    mdia = _boxes(data, *trak["mdia"])
    assert data[mdia["hdlr"][0] + 8 : mdia["hdlr"][0] + 12] == b"vide"
    minf = _boxes(data, *mdia["minf"])
    stbl = _boxes(data, *minf["stbl"])
    stsd_start = stbl["stsd"][0] + 8
    assert data[stsd_start + 4 : stsd_start + 8] == b"avc1"
    width, height = struct.unpack(">HH", data[stsd_start + 32 : stsd_start + 36])
    assert (width, height) == (v.width, v.height)
    # sample sizes add up to the mdat payload, and the first sample is an IDR slice
    sz = stbl["stsz"][0]
    count = struct.unpack(">I", data[sz + 8 : sz + 12])[0]
    sizes = struct.unpack(f">{count}I", data[sz + 12 : sz + 12 + 4 * count])
    mdat_start, mdat_end = top["mdat"]
    assert sum(sizes) == mdat_end - mdat_start
    assert data[mdat_start + 4] & 0x1F == 5
    chunk_offset = struct.unpack(">I", data[stbl["stco"][0] + 8 : stbl["stco"][0] + 12])[0]
    assert chunk_offset == mdat_start


def test_video_decodes_with_ffmpeg_when_available(cloud):
    av = pytest.importorskip("av")
    v = next(a for a in cloud.assets() if a.resource_type == "video")
    data = fetch(f"{cloud.url}/{cloud.name}/video/upload/{v.public_id}.mp4").content
    with av.open(io.BytesIO(data)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 24 and frames[0].width == 320 and frames[0].height == 180


def test_video_thumbnail_as_image(cloud):
    v = next(a for a in cloud.assets() if a.resource_type == "video")
    url = sdk_url(v.public_id, resource_type="video", format="jpg", width=160, crop="scale")
    img = image(fetch(url))
    assert img.format == "JPEG" and img.size == (160, 90)


def test_concurrent_delivery_and_search(cloud):
    from concurrent.futures import ThreadPoolExecutor

    images = [a for a in cloud.assets() if a.resource_type == "image"][:12]

    def get(i):
        a = images[i % len(images)]
        if i % 3 == 0:
            return cloud.admin(
                "POST", "resources/search", json={"expression": "tags=ss26"}
            ).status_code
        return fetch(
            f"{cloud.url}/{cloud.name}/image/upload/w_{40 + i}/{a.public_id}.webp"
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(get, range(36))) == {200}
