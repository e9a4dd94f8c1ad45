"""Create each product's new media (journaled first), staged uploads for videos."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict

from assetlink_project.http_client import download
from linking.core import CreateMedia, LinkRecord
from stores.shopify import operations as ops
from stores.shopify.batching import NOT_SENT, error_code, triage
from stores.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyUnavailable,
)
from stores.shopify.files import StagedUpload, put_staged, stage_uploads
from stores.shopify.media import added_media

from .model import ProductOutcome, _Step


class _Create:
    """Part of :class:`linking.executor.Executor`."""

    # -- phase 2: creates --

    def _phase_creates(self, steps: list[_Step]) -> Iterator[ProductOutcome]:
        """Create each product's new media: the wave's journal in one write, then one
        ``productUpdate`` per product, sent at once (the bucket paces them); the answers are
        read here, one after another, and the media adopted written in one go. An abort stops
        the products whose call has not gone out yet (reported not done)."""
        if not any(s.creates for s in steps):
            return
        self._set_phase("creating media")
        prepared = []
        for step in list(steps):
            if not step.creates:
                continue
            if not step.unlink_first and self.should_abort():
                steps.remove(step)
                yield self._not_done(step.work)
                continue
            media, sent = [], []
            for create in step.creates:
                source = self.source_url(
                    create.media_type, create.asset_id, create.version, create.transformation
                )
                if create.media_type == "VIDEO":  # Shopify takes videos only by staged upload
                    try:
                        source = self._staged_upload(source, create)
                    except (ShopifyError, OSError, ValueError) as exc:
                        step.fail(create.media_id, "STAGED_UPLOAD_FAILED", str(exc)[:300])
                        continue
                sent.append(create)
                media.append(
                    {
                        "originalSource": source,
                        "alt": create.alt or "",
                        "mediaContentType": create.media_type,
                    }
                )
            if not sent:
                continue
            entry = {"before_ids": list(step.gallery), "creates": [asdict(c) for c in sent]}
            prepared.append((step, entry, sent, media))
        if not prepared:
            return
        self.hooks.journal_many({step.product_id: entry for step, entry, _, _ in prepared})
        answers = [
            self.sender.submit(
                ops.RUN_ADD_MEDIA,
                {"product": {"id": step.product_id}, "media": media, "last": len(media)},
                # a product past the 250-media limit was unlinked already: it goes on
                skip=None if step.unlink_first else self.should_abort,
            )
            for step, _, _, media in prepared
        ]
        done: list[str] = []
        try:
            for (step, entry, sent, media), answer in zip(prepared, answers, strict=True):
                if answer.result() is NOT_SENT:  # aborted before its call went out
                    steps.remove(step)
                    yield self._not_done(step.work)
                    continue
                self._create(step, entry, sent, media, first=answer)
                done.append(step.product_id)
        except Exception:
            self._flush_records()  # what Shopify confirmed is known even when the run fails
            raise
        self._flush_records()
        self.hooks.journal_many(dict.fromkeys(done))

    def _flush_records(self) -> None:
        saved, self._unsaved = self._unsaved, []
        if saved:
            self.hooks.records_saved_many(saved)

    def _create(
        self, step: _Step, entry: dict, sent: list[CreateMedia], media: list[dict], first=None
    ):
        """One productUpdate with the product's new media. Shopify may add the valid ones and
        refuse the rest (userErrors with their index): what it added is adopted, what it asks
        to retry is sent again with backoff, the rest fails (and the product rolls back). When
        Shopify may or may not have run the call (a timeout, a 5xx), the gallery says which:
        media new since the journaled gallery are adopted when they are exactly what was sent,
        removed (they are this run's own) when they cannot be told apart, and the call is sent
        again."""
        todo = list(range(len(sent)))
        for attempt in range(self.create_attempts):
            if attempt:
                self._sleep(min(self.poll_max * 4, self.poll_min * 2 ** (attempt + 2)))
                entry = {
                    "before_ids": list(step.gallery),
                    "creates": [asdict(sent[i]) for i in todo],
                }
                self._flush_records()  # media adopted so far are not "before" without a record
                self.hooks.journal(step.product_id, entry)
            batch = [media[i] for i in todo]
            try:
                result = self._answer(
                    None if attempt else first,
                    ops.RUN_ADD_MEDIA,
                    {"product": {"id": step.product_id}, "media": batch, "last": len(batch)},
                )
            except ShopifyAuthError:
                raise
            except ShopifyUnavailable as exc:
                if exc.maybe_applied and self._settle_doubt(
                    step, [sent[i] for i in todo], in_flight=not exc.cause.startswith("http_")
                ):
                    todo = []
                    break
                if attempt + 1 < self.create_attempts:
                    continue
                for i in todo:
                    step.fail(sent[i].media_id, error_code(exc), str(exc))
                todo = []
                break
            except ShopifyError as exc:
                for i in todo:
                    step.fail(sent[i].media_id, error_code(exc), str(exc))
                todo = []
                break
            known = set(step.gallery)
            new = [(m, status) for m, status in added_media(result) if m not in known]
            errors = triage(result, "media", len(todo))
            bad, general = errors.by_input, errors.general
            accepted = [todo[k] for k in range(len(todo)) if k not in bad]
            if general and len(new) != len(accepted):
                accepted = accepted[: len(new)]  # refused as a whole: nothing was added
            self._adopt(step, [sent[i] for i in accepted], new)
            retry, left = [], set(todo) - set(accepted)
            for k, i in enumerate(todo):
                if i not in left:
                    continue
                err = bad.get(k) or (general[0] if general else None)
                if err is not None and err.retryable and attempt + 1 < self.create_attempts:
                    retry.append(i)
                elif err is not None:
                    step.fail(sent[i].media_id, err.code or "INVALID", err.message)
                else:
                    step.fail(sent[i].media_id, "MISSING", "Shopify did not return this media.")
            todo = retry
            if not todo:
                break

    def _staged_upload(self, url: str, create: CreateMedia) -> str:
        """Copy a video to Shopify's staged upload target; its resourceUrl is the source."""
        body = download(url)
        filename = f"{create.asset_id}-v{create.version}.mp4"
        staged = stage_uploads(
            self.client, [body], lambda b: StagedUpload(filename, len(b)), sleep=self._sleep
        )
        if staged.refused:
            refused = staged.refused[0]
            raise ValueError(f"Shopify refused the staged upload: {refused.code} {refused.message}")
        ((_, target),) = staged.targets
        put_staged(target, body)
        return target.resource_url

    def _adopt(self, step: _Step, sent: list[CreateMedia], created: list[tuple[str, str]]) -> None:
        """Record the media Shopify created for ``sent`` (in order)."""
        now = time.monotonic()
        saved = []
        for create, (media_id, status) in zip(sent, created, strict=False):
            step.ids[create.media_id] = media_id
            step.status[media_id] = status
            step.gallery.append(media_id)
            record = LinkRecord(create.asset_id, create.version, create.transformation, create.alt)
            step.records[media_id] = record
            saved.append((step.product_id, media_id, record))
            self._created_at[media_id] = now
        self._unsaved += saved  # written by the creates phase, before it clears the journal
        for create in sent[len(created) :]:
            step.fail(create.media_id, "MISSING", "Shopify did not return this new media.")
        self._tick(step, min(len(created), len(sent)))
