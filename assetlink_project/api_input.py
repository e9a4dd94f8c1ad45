"""Request bodies of the API: checked for shape before any view uses them."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers


class ChoiceWithOldSpellings(serializers.ChoiceField):
    """A choice that still takes the old spelling of a renamed value on input, and gives the
    one spelling (the schema lists only that)."""

    def __init__(self, choices, *, old_spellings: Mapping[str, str], **kwargs):
        self.old_spellings = {str(old): str(new) for old, new in old_spellings.items()}
        super().__init__(choices, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = self.old_spellings.get(data, data)
        return super().to_internal_value(data)


def validated_body(request, serializer_class, *, noun: str = "request") -> dict:
    """The body as `serializer_class` validates it: a JSON object with known fields only.

    A list, string or number where an object is expected, an unknown field or a value of the
    wrong type is a 400 naming the field — never a 500.
    """
    data = request.data
    if not isinstance(data, dict):
        raise serializers.ValidationError({"detail": f"Send a JSON object of {noun} fields."})
    serializer = serializer_class(data=data)
    unknown = sorted(set(data) - set(serializer.fields))
    if unknown:
        known = ", ".join(serializer.fields)
        raise serializers.ValidationError(
            {name: [f"Unknown {noun} field; use {known}."] for name in unknown}
        )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
