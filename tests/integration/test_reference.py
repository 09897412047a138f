"""The project carries its reference facts: schema/reference matches ../shared/reference, and
the generated area migration matches schema/reference."""
import filecmp
import os
import subprocess

import pytest

from conftest import ROOT

SHARED = os.path.join(os.path.dirname(ROOT), "shared", "reference")


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared/reference is absent")
def test_reference_tables_match_shared():
    pairs = [("thailand/provinces.tsv", "provinces.tsv"),
             ("thailand/districts.tsv", "districts.tsv"),
             ("thailand/subdistricts.tsv", "subdistricts.tsv"),
             ("bangkok_districts.tsv", "bangkok_districts.tsv"),
             ("bangkok_zones.tsv", "bangkok_zones.tsv")]
    for src, ours in pairs:
        assert filecmp.cmp(os.path.join(SHARED, src),
                           os.path.join(ROOT, "schema", "reference", ours), shallow=False), src


def test_generated_area_migration_is_current():
    p = subprocess.run([os.path.join(ROOT, "scripts", "gen-reference"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
