"""Missing keypoints of the training faces (kfkd.missing, ``--missing``) and
stepped schedules (kfkd.schedules, ``--schedule``).  Small arrays; the
Trainer test stops before anything is compiled."""
import numpy as np
import pytest

from kfkd import missing, schedules
from kfkd.config import TrainingConfig
from kfkd.data import KeypointData
from kfkd.errors import UsageError
from kfkd.keypoints import KeypointSchema

NAN = np.nan
#: 4 faces x 2 keypoints (4 coordinates), in file rows 10, 11, 12, 13.
KEYPOINTS = np.array([[1, 2, 3, 4],
                      [NAN, NAN, 5, 6],
                      [7, 8, NAN, NAN],
                      [NAN, 9, 10, 11]], np.float32)


def _faces(keypoints=KEYPOINTS, rows=None):
    data = KeypointData(np.arange(len(keypoints), dtype=np.float32)[
        :, None, None, None] * np.ones((1, 1, 96, 96), np.float32),
        keypoints.copy(), KeypointSchema(("a_x", "a_y", "b_x", "b_y")))
    data.rows = rows
    return data


def test_masked_is_the_data_unchanged():
    data = _faces()
    assert missing.prepare(data, "masked") is data
    np.testing.assert_array_equal(data.keypoints, KEYPOINTS)


def test_drop_keeps_only_complete_faces_with_their_images():
    data = _faces(rows=np.array([10, 11, 12, 13]))
    kept = missing.prepare(data, "drop")
    np.testing.assert_array_equal(kept.keypoints, KEYPOINTS[[0]])
    assert kept.images[0, 0, 0, 0] == 0 and kept.rows.tolist() == [10]
    np.testing.assert_array_equal(data.keypoints, KEYPOINTS)  # not mutated


def test_drop_of_no_complete_face_is_an_error():
    with pytest.raises(UsageError, match="--missing drop: none of the 3"):
        missing.prepare(_faces(KEYPOINTS[1:]), "drop")


def test_ffill_fills_from_the_previous_face_in_file_order():
    filled = missing.prepare(_faces(), "ffill").keypoints
    np.testing.assert_array_equal(filled, [[1, 2, 3, 4], [1, 2, 5, 6],
                                           [7, 8, 5, 6], [7, 9, 10, 11]])
    # the same faces held in another order: file rows decide, not position
    order = np.array([3, 1, 0, 2])
    shuffled = missing.prepare(_faces(KEYPOINTS[order], rows=order), "ffill")
    np.testing.assert_array_equal(shuffled.keypoints, filled[order])


def test_ffill_leaves_what_has_nothing_before_it_missing():
    filled = missing.prepare(_faces(KEYPOINTS[1:]), "ffill").keypoints
    assert np.isnan(filled[0, :2]).all()
    np.testing.assert_array_equal(filled[1:], [[7, 8, 5, 6], [7, 9, 10, 11]])


def test_unknown_strategy_is_a_usage_error():
    with pytest.raises(UsageError, match="--missing: 'zero'"):
        missing.prepare(_faces(), "zero")
    with pytest.raises(UsageError, match="missing: 'zero' is not one of"):
        TrainingConfig(missing="zero")


@pytest.mark.parametrize("strategy", missing.STRATEGIES)
def test_trainer_prepares_the_training_faces_only(strategy, monkeypatch):
    """Trainer.fit hands the strategy's faces to the net and validates on
    the faces as given (stopped before compiling anything)."""
    from kfkd.train import Trainer  # the Theano boundary

    seen = {}

    def build(self, train, init_model):
        seen["train"] = train
        raise StopIteration
    monkeypatch.setattr(Trainer, "_build", build)
    trainer = Trainer(net="net1", missing=strategy, verbose=False)
    val = _faces()
    with pytest.raises(StopIteration):
        trainer.fit(_faces(), val)
    np.testing.assert_array_equal(val.keypoints, KEYPOINTS)
    expected = missing.prepare(_faces(), strategy).keypoints
    np.testing.assert_array_equal(seen["train"].keypoints, expected)
    assert trainer.get_params()["missing"] == strategy


def test_vgglite_schedule_steps_rate_then_batch():
    lr, batch = schedules.stepped("vgglite", 140)
    assert batch[[0, 15, 30, 45, 134, 139]].tolist() == [32, 64, 128, 32,
                                                          128, 128]
    np.testing.assert_allclose(lr[[0, 44, 45, 90, 139]],
                               [1e-3, 1e-3, 1e-4, 1e-5, 1e-5])
    assert len(schedules.stepped("vgglite", 3)[0]) == 3


def test_schedule_is_an_option_recorded_in_the_config():
    config = TrainingConfig(schedule="vgglite")
    assert config.to_training()["schedule"] == "vgglite"
    assert TrainingConfig.from_training(config.to_training()) == config
    with pytest.raises(UsageError, match="schedule: 'fast' is not one of"):
        TrainingConfig(schedule="fast")
