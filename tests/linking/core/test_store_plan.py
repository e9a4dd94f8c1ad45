"""A store's plan end to end in the core: selection → groups → matches → products and rows."""

from linking.core import (
    AltSource,
    AltTextRule,
    Asset,
    CatalogIndex,
    GalleryItem,
    LinkConfig,
    LinkMode,
    LinkSettings,
    Product,
    ProductState,
    ReportAction,
    Variant,
    apply_to_state,
    match_groups,
    parse_field_ref,
    parse_shopify_field,
    plan_store,
    prepare_groups,
)

A = ReportAction
SHOE = Product(
    "gid://shopify/Product/1",
    "shoe",
    "Runner Shoe",
    variants=(
        Variant("gid://shopify/ProductVariant/11", sku="AB-1"),
        Variant("gid://shopify/ProductVariant/12", sku="AB-2"),
    ),
)
SHIRT = Product(
    "gid://shopify/Product/2",
    "shirt",
    "Shirt",
    variants=(Variant("gid://shopify/ProductVariant/21", sku="CD-1"),),
)
INDEX = CatalogIndex([SHOE, SHIRT])


def dry_run(assets, galleries=None, **config):
    config.setdefault("cloudinary_field", parse_field_ref("metadata:sku"))
    config.setdefault("shopify_field", parse_shopify_field("variant.sku"))
    link = LinkConfig(**config)
    link.validate()
    prepared = prepare_groups(assets, link)
    match = match_groups(prepared.kept_groups, INDEX, link.shopify_field)
    if galleries is None:
        galleries = {pid: ProductState(pid) for pid in match.groups_by_product}
    return plan_store(prepared, match, INDEX, galleries, link)


def asset(n, sku, pos=None, **kwargs):
    metadata = {"sku": sku, **({"pos": pos} if pos is not None else {})}
    metadata.update(kwargs.pop("metadata", {}))
    return Asset(f"a{n}", f"products/{n}", metadata=metadata, **kwargs)


def test_a_product_matched_by_two_groups_gets_both_in_group_order():
    plan = dry_run([asset(1, "AB-2"), asset(2, "AB-1"), asset(3, "AB-2")])
    [product] = plan.products
    assert [i.record.asset_id for i in product.after.gallery] == ["a1", "a3", "a2"]
    assert plan.statistics.products_matched_by_several_groups == 1
    variant_ops = product.operations.variant_images
    assert [(o.variant_id.rsplit("/", 1)[1], o.media_id) for o in variant_ops] == [
        ("12", "new:a1@1"),
        ("11", "new:a1@1"),
    ]


def test_order_field_and_manual_order_shape_s():
    assets = [asset(1, "CD-1", "10"), asset(2, "CD-1", "2"), asset(3, "CD-1")]
    plan = dry_run(assets, order_field=parse_field_ref("metadata:pos"))
    assert [i.record.asset_id for i in plan.products[0].after.gallery] == ["a2", "a1", "a3"]
    plan = dry_run(
        assets, order_field=parse_field_ref("metadata:pos"), manual_orders={"cd-1": ["a3"]}
    )
    assert [i.record.asset_id for i in plan.products[0].after.gallery] == ["a3", "a2", "a1"]


def test_unmatched_excluded_and_ungrouped_assets_are_rows_too():
    assets = [
        asset(1, "AB-1"),
        asset(2, "AB-1"),
        asset(3, "ZZ-9"),
        asset(4, "CD-1"),
        Asset("a5", "products/5"),
    ]
    plan = dry_run(
        assets, excluded_asset_ids=frozenset({"a2"}), excluded_group_keys=frozenset({"cd-1"})
    )
    rows = {(r.asset_id, r.action) for r in plan.rows}
    assert rows == {
        ("a1", A.CREATED),
        ("a2", A.EXCLUDED),
        ("a3", A.UNMATCHED),
        ("a4", A.EXCLUDED),
        ("a5", A.UNMATCHED),
    }
    unmatched = next(r for r in plan.rows if r.asset_id == "a3")
    assert "variant.sku" in unmatched.message and "ZZ-9" in unmatched.message
    assert plan.statistics.groups_unmatched == 1


def test_a_group_with_every_asset_excluded_is_not_linked():
    gallery = {SHOE.id: ProductState(SHOE.id, (GalleryItem("m1"),))}
    plan = dry_run(
        [asset(1, "AB-1")],
        gallery,
        excluded_asset_ids=frozenset({"a1"}),
        settings=LinkSettings(LinkMode.RESET),
    )
    assert plan.products == []
    assert [(r.asset_id, r.action) for r in plan.rows] == [("a1", A.EXCLUDED)]


def test_swatches_never_enter_the_gallery_and_a_swatch_only_group_keeps_it():
    gallery = {SHOE.id: ProductState(SHOE.id, (GalleryItem("m1"),))}
    swatch = asset(1, "AB-1", metadata={"asset_type": "swatch"})
    plan = dry_run(
        [swatch], gallery, settings=LinkSettings(LinkMode.RESET), file_transformation="f_png"
    )
    [product] = plan.products
    assert [i.media_id for i in product.after.gallery] == ["m1"]
    [file] = product.operations.swatch_files
    assert (file.asset_id, file.transformation) == ("a1", "f_png")
    assert [m.owner_id.rsplit("/", 1)[1] for m in product.operations.swatch_metafields] == ["11"]


def test_a_swatch_file_shared_by_two_products_is_created_once():
    swatch = asset(1, "AB-1,CD-1", metadata={"asset_type": "swatch"})
    plan = dry_run([swatch, asset(2, "AB-1"), asset(3, "CD-1")], separator=",")
    files = [f for p in plan.products for f in p.operations.swatch_files]
    assert len(files) == 1
    refs = {m.file_ids for p in plan.products for m in p.operations.swatch_metafields}
    assert refs == {(files[0].file_id,)}


def test_alt_text_template_uses_the_products_title_and_videos_keep_no_transformation():
    assets = [asset(1, "CD-1", metadata={"color": "Red"}), asset(2, "CD-1", resource_type="video")]
    rule = AltTextRule(AltSource.TEMPLATE, "{product.title} – {metadata.color}")
    plan = dry_run(
        assets, alt_rule=rule, image_transformation="c_limit,w_2048", alt_overrides={"a2": "A film"}
    )
    creates = plan.products[0].operations.creates
    assert [(c.alt, c.media_type, c.transformation) for c in creates] == [
        ("Shirt – Red", "IMAGE", "c_limit,w_2048"),
        ("A film", "VIDEO", ""),
    ]


def test_a_product_whose_gallery_was_not_read_is_skipped():
    plan = dry_run([asset(1, "CD-1")], galleries={})
    assert [(r.asset_id, r.action) for r in plan.rows] == [("a1", A.SKIPPED)]


def test_store_plan_run_twice_is_all_unchanged():
    assets = [
        asset(1, "AB-1"),
        asset(2, "AB-2"),
        asset(3, "CD-1"),
        asset(4, "AB-1", metadata={"asset_type": "swatch"}),
    ]
    first = dry_run(assets, settings=LinkSettings(LinkMode.PREPEND))
    galleries = {p.product_id: apply_to_state(p.before, p.operations) for p in first.products}
    files = {
        (f.asset_id, f.version, f.transformation): f.file_id
        for p in first.products
        for f in p.operations.swatch_files
    }
    link = LinkConfig(
        parse_field_ref("metadata:sku"),
        parse_shopify_field("variant.sku"),
        LinkSettings(LinkMode.PREPEND),
    )
    prepared = prepare_groups(assets, link)
    match = match_groups(prepared.kept_groups, INDEX, link.shopify_field)
    second = plan_store(prepared, match, INDEX, galleries, link, store_files=files)
    assert all(not p.operations for p in second.products)
    assert {r.action for r in second.rows} == {A.UNCHANGED}


def test_10000_assets_in_2000_groups_plan_against_100000_variants():
    products = [
        Product(f"p{p}", variants=tuple(Variant(f"v{p}-{v}", sku=f"S{p}-{v}") for v in range(10)))
        for p in range(10_000)
    ]
    assets = [
        Asset(f"a{i}", f"x/{i}", metadata={"sku": f"S{(i // 5) * 5}-{i % 3}"})
        for i in range(10_000)
    ]
    link = LinkConfig(parse_field_ref("metadata:sku"), parse_shopify_field("variant.sku"))
    prepared = prepare_groups(assets, link)
    index = CatalogIndex(products)
    match = match_groups(prepared.kept_groups, index, link.shopify_field)
    galleries = {pid: ProductState(pid) for pid in match.groups_by_product}
    plan = plan_store(prepared, match, index, galleries, link)
    # How fast is bench/plan.py's to print (a timing assertion here fails on a busy machine).
    assert len(prepared.groups) == 6_000 and plan.statistics.products_matched == 2_000
