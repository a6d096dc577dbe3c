"""The vendor pages saved in fixtures/ (the ground truth the contract tests compare samples with) are
the pages the project was given, byte for byte."""
from __future__ import annotations

import pytest

from tests.support import FIXTURES, ROOT

SAVED = {"imonggo/vendor-page.txt": "imonggo-reward-api.txt", "memberpoints/vendor-page.txt": "memberpoints.txt"}


def given_pages() -> list:  # type: ignore[type-arg]
    return [base / "shared" / "seeds" for base in (ROOT.parent, ROOT.parent.parent) if (base / "shared" / "seeds").is_dir()]


@pytest.mark.parametrize("saved", SAVED)
def test_a_saved_vendor_page_is_the_page_given(saved: str) -> None:
    folders = given_pages()
    if not folders:
        # Only provenance is lost here: the contract tests read the saved copies in every checkout.
        pytest.skip("the vendor pages (shared/seeds) are not beside this checkout")
    assert (FIXTURES / saved).read_bytes() == (folders[0] / SAVED[saved]).read_bytes()
