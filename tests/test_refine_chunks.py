"""The refine stage around the engine: which lenses, chunk jobs that resume from their saved
parts, and the merge that calibrates and summarises. Real fits of a real store."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import small_config
from lenspipe.data.store import open_store, read_parameters
from lenspipe.errors import ImageError
from lenspipe.refinement import pool
from lenspipe.runs.refine_job import refine_chunk
from lenspipe.settings import RefineSearch
from lenspipe.refinement.merge import merge_refined
from lenspipe.refinement.seeds import seed_frame
from lenspipe.refinement.selection import refine_counts, select_lenses
from lenspipe.runs.chunk_work import read_journal
from lenspipe.settings import SimulationSettings
from lenspipe.work_settings import SETTINGS_FILE, UNRECORDED

TARGETS = small_config()["training"]["targets"]
# A short search without restarts: these tests are about the jobs, not the fits.
SEARCH = RefineSearch(
    confine_sigmas=5.0,
    source_grid=3,
    max_steps=4,
    max_chi2_per_pixel=1.5,
    n_restarts=0,
    restart_sigmas=3.0,
)


@pytest.fixture(scope="module")
def seeds(small_store, tmp_path_factory):
    """Seeds of lenses 0, 1 and 2 of the small store: the truth moved by a CNN-like error."""
    _, store, _, _ = small_store
    lenses = np.array([0, 1, 2])
    truth = read_parameters(open_store(store), TARGETS)[lenses]
    sigma = np.full_like(truth, 0.03)
    rows = pd.DataFrame({"lens_index": lenses, "role": "test"})
    path = tmp_path_factory.mktemp("seeds") / "seeds.csv"
    seed_frame(rows, TARGETS, truth, truth + 0.5 * sigma, sigma).to_csv(path, index=False)
    return path


def run_chunk(small_store, seeds, out, work, search=SEARCH, workers=1):
    config, store, _, _ = small_store
    return refine_chunk(
        SimulationSettings.from_config(config),
        search,
        TARGETS,
        chunk=0,
        chunk_size=3,
        seeds_path=seeds,
        images_path=store,
        path=out,
        work_dir=work,
        checkpoint_every=1,
        workers=workers,
    )


@pytest.fixture(scope="module")
def uninterrupted(small_store, seeds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    return run_chunk(small_store, seeds, folder / "chunk.csv", folder / "work")


def without_timing(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns="seconds")


def test_the_first_lenses_of_each_subset_are_refined_calibration_first():
    split = {"validation": np.array([9, 2, 5]), "test": np.array([7, 1, 4, 3])}
    rows = select_lenses(split, {"calibration": 2, "test": 3})
    assert rows["lens_index"].tolist() == [2, 5, 1, 3, 4]
    assert rows["role"].tolist() == ["calibration"] * 2 + ["test"] * 3
    with pytest.raises(ValueError, match="5 test lenses asked for, the test subset has 4"):
        select_lenses(split, {"calibration": 0, "test": 5})


def test_refine_counts_take_all_and_stop_at_the_subset():
    config = small_config(refine={"n_lenses": "all", "n_calibration": 500})
    # 60 lenses split 0.8 / 0.1 / 0.1: 6 validation and 6 test lenses.
    assert refine_counts(config) == {"calibration": 6, "test": 6}


def test_a_chunk_has_one_row_per_seed_with_the_fit_beside_the_seed(uninterrupted, seeds):
    seed_rows = pd.read_csv(seeds)
    assert uninterrupted["lens_index"].tolist() == [0, 1, 2]
    pd.testing.assert_frame_equal(uninterrupted[seed_rows.columns], seed_rows)
    converged = uninterrupted["converged"].astype(bool)
    for name in TARGETS:
        assert uninterrupted.loc[converged, f"pred_{name}"].notna().all()
        assert uninterrupted.loc[~converged, f"pred_{name}"].isna().all()
    assert (uninterrupted["seconds"] > 0).all() and (uninterrupted["chi2"] > 0).all()


def attempt_killed_at_the_second_lens(small_store, seeds, out, work, monkeypatch):
    """Run the chunk until its second lens, as a job killed there: the first part is saved."""
    real_task = pool._refine_task
    calls = []

    def dies_on_the_second_lens(task):
        calls.append(task[0])
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real_task(task)

    with monkeypatch.context() as patched:
        patched.setattr(pool, "_refine_task", dies_on_the_second_lens)
        with pytest.raises(KeyboardInterrupt):
            run_chunk(small_store, seeds, out, work)
    assert not out.exists() and len(list(work.glob("rows_*.csv"))) == 1


def test_an_interrupted_chunk_resumes_from_its_saved_parts_to_the_same_table(
    small_store, seeds, uninterrupted, tmp_path, monkeypatch
):
    out, work = tmp_path / "chunk.csv", tmp_path / "work"
    attempt_killed_at_the_second_lens(small_store, seeds, out, work, monkeypatch)
    resumed = run_chunk(small_store, seeds, out, work)
    attempts = read_journal(work)
    assert [attempt.saved_before for attempt in attempts] == [0, 1]
    assert attempts[-1].finished and not list(work.glob("rows_*.csv"))
    pd.testing.assert_frame_equal(without_timing(resumed), without_timing(uninterrupted))
    pd.testing.assert_frame_equal(pd.read_csv(out), resumed)


@pytest.mark.parametrize("change", ["search", "unreadable_record"])
def test_saved_parts_made_otherwise_are_refitted(
    small_store, seeds, tmp_path, monkeypatch, change
):
    out, work = tmp_path / "chunk.csv", tmp_path / "work"
    attempt_killed_at_the_second_lens(small_store, seeds, out, work, monkeypatch)
    search = SEARCH
    if change == "search":
        search = dataclasses.replace(SEARCH, max_steps=SEARCH.max_steps + 1)
    else:
        (work / SETTINGS_FILE).write_text("")  # emptied: not known to be the same
    run_chunk(small_store, seeds, out, work, search=search)
    changed = "max_steps" if change == "search" else UNRECORDED
    assert f"{changed}): removed 1 saved parts" in (work / "journal.txt").read_text()
    assert [attempt.saved_before for attempt in read_journal(work)] == [0, 0]


def test_the_number_of_workers_does_not_change_the_table(
    small_store, seeds, uninterrupted, tmp_path
):
    two = run_chunk(small_store, seeds, tmp_path / "chunk.csv", tmp_path / "work", workers=2)
    pd.testing.assert_frame_equal(without_timing(two), without_timing(uninterrupted))


def test_a_seed_that_is_not_finite_is_refused_before_any_fit(small_store, seeds, tmp_path):
    bad = pd.read_csv(seeds)
    bad.loc[1, "cnn_lens_theta_E"] = np.nan
    path = tmp_path / "seeds.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ImageError, match="lens 1 has a CNN prediction that is not finite"):
        run_chunk(small_store, path, tmp_path / "chunk.csv", tmp_path / "work")
    assert not list((tmp_path / "work").glob("rows_*.csv"))


def synthetic_chunk(role: str, lenses: range, rng: np.random.Generator) -> pd.DataFrame:
    """Refined rows with known errors: each error is 2 times the Fisher sigma times a normal
    draw, so the calibration must find a factor of about 2."""
    rows = []
    for lens in lenses:
        row = {"lens_index": lens, "role": role}
        for name in TARGETS:
            truth = rng.uniform(-0.2, 0.2)
            row |= {f"true_{name}": truth, f"cnn_{name}": truth + 0.03, f"cnn_sigma_{name}": 0.03}
            row |= {f"pred_{name}": truth + 2 * 0.001 * rng.standard_normal()}
            row |= {f"fisher_sigma_{name}": 0.001}
        row |= dict(seconds=1.0, converged=True, chi2=4100.0, chi2_per_pixel=1.0)
        row |= dict(path="seeded", n_descents=1, evaluations=300)
        rows.append(row)
    return pd.DataFrame(rows)


def test_the_merge_calibrates_on_the_calibration_lenses_and_summarises_the_test_lenses(tmp_path):
    rng = np.random.default_rng(3)
    calibration = synthetic_chunk("calibration", range(0, 400), rng)
    test = synthetic_chunk("test", range(400, 800), rng)
    test.loc[0, [f"pred_{name}" for name in TARGETS]] = np.nan  # a failed fit
    test.loc[0, ["converged", "path"]] = [False, "restarts"]
    test.loc[1, "pred_lens_theta_E"] = test.loc[1, "true_lens_theta_E"] + 0.06  # catastrophic
    paths = []
    for k, frame in enumerate([calibration.iloc[:250], pd.concat([calibration.iloc[250:], test])]):
        paths.append(tmp_path / f"chunk_{k}.csv")
        frame.to_csv(paths[-1], index=False)
    outputs = [tmp_path / name for name in ("predictions.csv", "calibration.json", "summary.json")]
    summary = merge_refined(paths, TARGETS, *outputs)
    predictions = pd.read_csv(outputs[0])
    assert predictions["lens_index"].tolist() == list(range(400, 800))
    factor = predictions["sigma_lens_e1"] / 0.001
    assert 1.8 < factor.iloc[2] < 2.2 and np.allclose(factor.iloc[2:], factor.iloc[2])
    assert (summary["n_refined"], summary["n_failed"], summary["n_catastrophic"]) == (400, 1, 1)
    assert summary["paths"] == {"seeded": 399, "restarts": 1}
    for name in TARGETS:
        target = summary["parameters"][name]
        assert 0.6 < target["coverage_68"] < 0.76 and 0.91 < target["coverage_95"] < 0.99
        assert target["refined_over_cnn"] < 0.2
    assert summary["cpu_hours_per_100k_lenses"] == pytest.approx(100_000 / 3600)


def test_a_cutouts_file_is_checked_from_its_header_naming_the_field(tmp_path):
    from lenspipe.config import merge_config, validate_config
    from lenspipe.errors import ConfigError

    good, wrong = tmp_path / "good.npy", tmp_path / "wrong.npy"
    np.save(good, np.zeros((3, 32, 32), np.float32))
    np.save(wrong, np.zeros((3, 31, 32), np.float32))
    config = merge_config(small_config(), {"refine": {"cutouts": {"mine": str(good)}}})
    assert validate_config(config)["refine"]["cutouts"] == {"mine": str(good)}
    for path, message in [
        (wrong, r"refine.cutouts.mine: .*wrong.npy: images of shape \(3, 31, 32\); expected"),
        (tmp_path / "missing.npy", r"refine.cutouts.mine: .*missing.npy: no such file"),
    ]:
        config = merge_config(small_config(), {"refine": {"cutouts": {"mine": str(path)}}})
        with pytest.raises(ConfigError, match=message):
            validate_config(config)
