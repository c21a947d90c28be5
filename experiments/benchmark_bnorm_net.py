"""Breeze, stock vs fused batch norm, ``[steps]`` calls: train (batch 128)
and infer (256, BN folded or not) on real faces, img per wall s / CPU s."""
import functools, os, sys  # noqa: E401
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kfkd import data, layers, nets, objective, train  # noqa: E402
from kfkd.timing import images_per_second as rates  # noqa: E402
import lasagne, numpy as np, theano  # noqa: E401,E402


def measure(net, arrays, n, rng=np.random.RandomState(0)):
    step, predict, _, _ = train.Trainer(net="breeze").compile_functions(net)
    x = lasagne.layers.get_all_layers(net)[0].input_var
    unfolded = theano.function([x], lasagne.layers.get_output(
        net, deterministic=True))
    pick = lambda i: step(*(a[i] for a in arrays))  # noqa: E731
    return "train %s | infer folded %s | unfolded %s" % (
        rates(lambda: pick(rng.choice(512, 128, replace=False)), n, 128),
        rates(lambda: predict(arrays[0][:256]), n, 256),
        rates(lambda: unfolded(arrays[0][:256]), n, 256))


if __name__ == "__main__":
    faces = data.load_training(data.find_file("training.csv"), verbose=False)
    arrays = (faces.images[:512],) + objective.masked_targets(
        faces.keypoints[:512])
    print("openmp=%s OMP_NUM_THREADS=%s load %.2f" % (theano.config.openmp,
          os.environ.get("OMP_NUM_THREADS"), os.getloadavg()[0]))
    steps = int((sys.argv + [4])[1])
    for fused in (False, True):  # kfkd's pool and dropout, either batch norm
        engine = dict(nets.ENGINES["custom"], batch_norm=functools.partial(
            layers.batch_norm, fused=fused))
        net = nets.build("breeze", engine=engine)
        print("fused" if fused else "stock", measure(net, arrays, steps))
