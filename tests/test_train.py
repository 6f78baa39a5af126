"""Training: real Keras fits on a real store; an interrupted fit resumes from its backup."""

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import colour_fraction, fit_small_normalisation
from lenspipe.data.normalise import save_normalisation, save_split
from lenspipe.learning.model import load_trained_model
from lenspipe.learning.train import train, validated_epochs


class Interrupt(Exception):
    """Stands for a job killed at the end of an epoch."""


class InterruptAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Interrupt(f"stopped after epoch {epoch}")


class KilledAfterFit(keras.callbacks.Callback):
    """Stops the job once ``fit`` has ended, before the model is moved into place."""

    def on_train_end(self, logs=None):
        raise Interrupt("killed after fit")


@pytest.fixture
def prepared_run(small_store, tmp_path):
    config, store, _, _ = small_store
    subsets, normalisation = fit_small_normalisation(config, store)
    save_split(subsets, tmp_path / "split.csv")
    save_normalisation(normalisation, tmp_path / "normalisation.json")
    paths = {
        "store_path": store,
        "normalisation_path": tmp_path / "normalisation.json",
        "split_path": tmp_path / "split.csv",
        "work_dir": tmp_path / "work",
        "model_path": tmp_path / "model.keras",
        "history_path": tmp_path / "history.csv",
        "curve_path": tmp_path / "curve.png",
    }
    return dict(config["training"], epochs=3), config["seed"], paths


def test_validated_epochs_are_every_interval_then_each_of_the_last_quarter():
    assert validated_epochs(40, 2) == [*range(1, 30, 2), *range(31, 41)]
    assert validated_epochs(40, 1) == list(range(1, 41))
    assert validated_epochs(10, 4) == [1, 5, 8, 9, 10]
    assert validated_epochs(1, 3) == [1]


def test_a_training_validated_every_other_epoch_skips_only_those(prepared_run, recwarn):
    training, seed, paths = prepared_run
    train(dict(training, epochs=4, validation_interval=2), seed, **paths)
    history = pd.read_csv(paths["history_path"]).set_index("epoch")
    assert history["loss"].notna().all()
    assert history["val_loss"].isna().tolist() == [False, True, False, False]
    assert (history["seconds"] > 0).all()  # each epoch's wall time
    assert paths["model_path"].exists()
    assert colour_fraction(paths["curve_path"]) > 0.001
    # No warning that early stopping or the checkpoint missed the validation loss.
    assert not [str(w.message) for w in recwarn if "val_loss" in str(w.message)]


def test_a_training_killed_after_fit_is_finished_not_repeated(prepared_run):
    training, seed, paths = prepared_run
    with pytest.raises(Interrupt):
        train(training, seed, **paths, extra_callbacks=[KilledAfterFit()])
    assert not (paths["work_dir"] / "backup").exists()  # BackupAndRestore removed it
    assert not paths["model_path"].exists()
    best = (paths["work_dir"] / "best.keras").read_bytes()

    history = train(training, seed, **paths)
    assert history.epoch == []  # nothing trained again
    assert pd.read_csv(paths["history_path"])["epoch"].tolist() == [0, 1, 2]
    assert paths["model_path"].read_bytes() == best
    assert not paths["work_dir"].exists()


def test_a_training_that_restarts_starts_an_empty_history(prepared_run):
    """Rows of epochs that a restarted attempt trains again are not kept twice."""
    training, seed, paths = prepared_run
    paths["work_dir"].mkdir()
    pd.DataFrame({"epoch": [0, 1], "loss": [9.0, 8.0], "val_loss": [9.0, 8.0]}).to_csv(
        paths["work_dir"] / "history.csv", index=False
    )
    with pytest.raises(Interrupt):
        train(training, seed, **paths, extra_callbacks=[InterruptAfterEpoch(0)])
    history = pd.read_csv(paths["work_dir"] / "history.csv")
    assert history["epoch"].tolist() == [0] and history["loss"].iloc[0] != 9.0


def test_interrupted_training_resumes_from_its_last_epoch(prepared_run):
    training, seed, paths = prepared_run
    with pytest.raises(Interrupt):
        train(training, seed, **paths, extra_callbacks=[InterruptAfterEpoch(1)])
    assert (paths["work_dir"] / "backup").is_dir()
    assert not paths["model_path"].exists()
    # Pretend the interrupted attempt reached a validation loss no later epoch can beat:
    # the resumed training must keep that attempt's best model rather than overwrite it.
    epoch_history = paths["work_dir"] / "history.csv"
    pd.read_csv(epoch_history).assign(val_loss=1e-12).to_csv(epoch_history, index=False)
    best_before = (paths["work_dir"] / "best.keras").read_bytes()

    history = train(training, seed, **paths)
    assert history.epoch == [2]  # epochs 0 and 1 were not trained again
    assert pd.read_csv(paths["history_path"])["epoch"].tolist() == [0, 1, 2]
    assert paths["model_path"].read_bytes() == best_before
    # The default loss is the Gaussian NLL: a mean and a log-variance per target.
    assert load_trained_model(paths["model_path"]).output_shape == (
        None,
        2 * len(training["targets"]),
    )
    assert colour_fraction(paths["curve_path"]) > 0.001
    assert not paths["work_dir"].exists()


def test_resumed_training_follows_the_uninterrupted_one(prepared_run, tmp_path):
    """Killed after epoch 1 and resumed, a training goes on with the same weights, optimizer
    state, learning rate and data order as one never interrupted: its losses agree with the
    uninterrupted run's ten times more closely than two seeds' do (the run-to-run spread)."""
    training, seed, paths = prepared_run
    training = dict(training, epochs=4, augment=True)

    def run(name: str, run_seed: int, interrupt: bool) -> pd.DataFrame:
        own = {key: value for key, value in paths.items()}
        for key in ("work_dir", "model_path", "history_path", "curve_path"):
            own[key] = tmp_path / name / paths[key].name
        if interrupt:
            with pytest.raises(Interrupt):
                train(training, run_seed, **own, extra_callbacks=[InterruptAfterEpoch(1)])
        train(training, run_seed, **own)
        return pd.read_csv(own["history_path"]).set_index("epoch")

    uninterrupted = run("uninterrupted", seed, interrupt=False)
    resumed = run("resumed", seed, interrupt=True)
    other_seed = run("other_seed", seed + 1, interrupt=False)
    assert resumed.index.tolist() == [0, 1, 2, 3]
    for column in ("loss", "val_loss"):
        departure = (resumed[column] - uninterrupted[column]).abs().loc[2:]
        spread = (other_seed[column] - uninterrupted[column]).abs().loc[2:]
        assert np.all(departure <= 0.1 * spread), (column, departure, spread)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"learning_rate": 3e-4}, "training.learning_rate"),
        ({"dense_units": [8]}, "training.dense_units"),
        ({"seed": 99}, "seed"),
        ({"target_weights": {"lens_theta_E": 2.0}}, "training.target_weights.lens_theta_E"),
    ],
)
def test_a_rerun_with_other_settings_starts_afresh_and_keeps_the_old_work(
    prepared_run, capsys, change, field
):
    training, seed, paths = prepared_run
    with pytest.raises(Interrupt):
        train(training, seed, **paths, extra_callbacks=[InterruptAfterEpoch(1)])
    capsys.readouterr()

    changed_seed = change.get("seed", seed)
    changed_training = dict(training, **{k: v for k, v in change.items() if k != "seed"})
    history = train(changed_training, changed_seed, **paths)
    assert history.epoch == [0, 1, 2]  # nothing resumed
    assert pd.read_csv(paths["history_path"])["epoch"].tolist() == [0, 1, 2]
    message = capsys.readouterr().out
    assert f"made with other settings ({field})" in message
    replaced = paths["work_dir"].with_name("work.replaced")
    assert str(replaced) in message and (replaced / "backup").is_dir()


def test_the_driver_is_told_which_training_will_not_be_resumed(prepared_run):
    from lenspipe.runs.training_resume import not_resumed

    training, seed, paths = prepared_run
    run = paths["split_path"].parent  # the fixture's files are where a run keeps them
    paths["work_dir"] = run / "work" / "train" / "cnn"
    assert not_resumed(run, "cnn", training, seed) is None  # nothing in progress
    with pytest.raises(Interrupt):
        train(training, seed, **paths, extra_callbacks=[InterruptAfterEpoch(0)])
    assert not_resumed(run, "cnn", training, seed) is None  # resumed as it is
    notice = not_resumed(run, "cnn", dict(training, learning_rate=0.5), seed + 1)
    assert notice.startswith("train/cnn: the training in progress")
    assert "(seed, training.learning_rate)" in notice and "will not be resumed" in notice
