"""Bad input fails loudly, with a message that says what to fix."""

from __future__ import annotations

import numpy as np
import pytest

import chainbench as cb
from chainbench import LAYERS


@pytest.fixture(scope="module")
def chain():
    return cb.Chain.from_spec("dense:4 tanh dense:2", n=3, seed=0)


@pytest.mark.parametrize("x", [np.zeros(2), np.zeros(4), np.zeros((3, 1)), np.zeros((1, 3)),
                               np.float64(1.0), []])
def test_x_of_wrong_shape(chain, x):
    for call in (chain, lambda x: cb.jacobian(chain, x), lambda x: cb.record_tape(chain, x),
                 lambda x: cb.jvp(chain, x, np.ones(3)), lambda x: cb.vjp(chain, x, np.ones(2))):
        with pytest.raises(ValueError, match=r"x must have shape \(3,\) for this chain, got"):
            call(x)


@pytest.mark.parametrize("x", [["a", "b", "c"], np.array([1j, 2, 3]), [None, 1.0, 2.0]])
def test_x_not_real_numbers(chain, x):
    with pytest.raises(TypeError, match="x must hold real numbers, got dtype"):
        chain(x)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        cb.jacobian(chain, x, mode="reverse")


V_SHAPE = r"v must have shape \(3,\) or \(3, k\) for this chain, got"
U_SHAPE = r"u must have shape \(2,\) or \(k, 2\) for this chain, got"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c: cb.jvp(c, np.zeros(3), np.ones(2)), V_SHAPE),
        (lambda c: cb.jvp(c, np.zeros(3), np.ones((2, 3))), V_SHAPE),
        (lambda c: cb.vjp(c, np.zeros(3), np.ones(3)), U_SHAPE),
        (lambda c: cb.vjp(c, np.zeros(3), np.ones((2, 3))), U_SHAPE),
        (lambda c: cb.vjp(c, np.zeros(3), np.ones((2, 2, 2))), U_SHAPE),
    ],
)
def test_directions_of_wrong_shape(chain, call, match):
    with pytest.raises(ValueError, match=match):
        call(chain)


def test_directions_not_real_numbers(chain):
    with pytest.raises(TypeError, match="v must hold real numbers"):
        cb.jvp(chain, np.zeros(3), np.array([1j, 0, 0]))
    with pytest.raises(TypeError, match="u must hold real numbers"):
        cb.vjp(chain, np.zeros(3), ["a", "b"])


def test_W_and_b_that_disagree():
    with pytest.raises(ValueError,
                       match=r"b has shape \(3,\) but W is \(2, 4\); b must have shape \(2,\)"):
        cb.Dense(np.ones((2, 4)), np.ones(3))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        cb.Dense(np.ones((2, 4)), np.ones((2, 1)))


@pytest.mark.parametrize("W", [np.ones(3), np.ones((2, 2, 2)), np.ones((0, 3)), np.ones((3, 0))])
def test_W_of_wrong_shape(W):
    with pytest.raises(ValueError, match=r"Dense: W must (be 2-D \(out, in\)|have at least one)"):
        cb.Dense(W)


@pytest.mark.parametrize("bad", [[["a", "b"]], np.ones((2, 2)) * 1j, [[None, 1.0]]])
def test_W_or_b_not_real_numbers(bad):
    with pytest.raises(TypeError, match="Dense: W must hold real numbers convertible to float64"):
        cb.Dense(bad)
    width = np.asarray(bad).shape[0]
    with pytest.raises(TypeError, match="Dense: b must hold real numbers"):
        cb.Dense(np.ones((width, 2)), np.asarray(bad)[:, 0])


def test_consecutive_widths_that_do_not_match():
    layers = [cb.Dense(np.ones((4, 3))), cb.Tanh(), cb.Dense(np.ones((2, 5)))]
    with pytest.raises(ValueError, match=r"layer 2 \(dense\) cannot take width 4 from layer 1 "
                                         r"\(tanh\).*W has 5 columns but the input has width 4"):
        cb.Chain(layers)
    with pytest.raises(ValueError, match=r"layer 0 \(dense\) cannot take width 2 from the input"):
        cb.Chain(layers[:1], n=2)


def test_chain_of_non_layers():
    with pytest.raises(TypeError, match=r"item 1 is ndarray, not a layer; use chainbench.Dense"):
        cb.Chain([cb.Tanh(), np.ones((2, 2))], n=2)
    with pytest.raises(ValueError, match="needs at least one layer"):
        cb.Chain([])


@pytest.mark.parametrize("name", [k for k in LAYERS if not LAYERS[k].arguments])
def test_first_layer_without_a_width_needs_n(name):
    with pytest.raises(ValueError, match=rf"first layer \({name}\) takes any width; pass n="):
        cb.Chain([LAYERS[name](), cb.Dense(np.ones((2, 3)))])


@pytest.mark.parametrize("token", ["dense:8 tanhh", "pool:3", "dense:4 Soft_max"])
def test_unknown_spec_token_names_it_and_lists_known_layers(token):
    bad = token.split()[-1]
    with pytest.raises(ValueError, match=rf"unknown layer '{bad}' in spec; known layers: ") as err:
        cb.Chain.from_spec(token, n=3)
    for name in LAYERS:
        assert name in str(err.value)
    assert "dense:WIDTH" in str(err.value)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("dense:0", r"layer 'dense:0': width must be ≥ 1, got 0"),
        ("tanh dense:-3", r"layer 'dense:-3': width must be ≥ 1, got -3"),
        ("dense", r"layer 'dense' needs a width, as in dense:64"),
        ("dense:abc", r"layer 'dense:abc': width 'abc' is not an integer"),
        ("tanh:4", r"layer 'tanh:4': tanh takes no width argument"),
        ("", r"empty spec; use layers among dense:WIDTH, tanh"),
    ],
)
def test_bad_widths_in_spec(spec, match):
    with pytest.raises(ValueError, match=match):
        cb.Chain.from_spec(spec, n=3)


@pytest.mark.parametrize("n, error, match", [(0, ValueError, "n must be ≥ 1, got 0"),
                                             (2.5, TypeError, "n must be an integer, got 2.5"),
                                             (True, TypeError, "n must be an integer")])
def test_bad_n(n, error, match):
    with pytest.raises(error, match=match):
        cb.Chain.from_spec("tanh", n=n)
    with pytest.raises(error, match=match):
        cb.Chain([cb.Tanh()], n=n)


@pytest.mark.parametrize("mode", ["backward", "Forward", "fd", ""])
def test_unknown_mode(chain, mode):
    message = rf"unknown mode '{mode}'; choose one of:? forward, "
    calls = (lambda: cb.jacobian(chain, np.zeros(3), mode=mode), lambda: cb.predict(chain, mode))
    for call in calls:
        with pytest.raises(ValueError, match=message) as err:
            call()
        assert all(known in str(err.value) for known in cb.MODES), str(err.value)


@pytest.mark.parametrize(
    "mode, chunk, match",
    [
        ("forward", 0, "between 1 and the number of inputs n = 3, got 0"),
        ("forward", 4, "between 1 and the number of inputs n = 3, got 4"),
        ("reverse", 0, "between 1 and the number of outputs m = 2, got 0"),
        ("reverse", 3, "between 1 and the number of outputs m = 2, got 3"),
        ("forward", -1, "chunk must be between 1 and"),
    ],
)
def test_chunk_out_of_range(chain, mode, chunk, match):
    with pytest.raises(ValueError, match=match):
        cb.jacobian(chain, np.zeros(3), mode=mode, chunk=chunk)


@pytest.mark.parametrize("chunk", [1.0, "2", True])
def test_chunk_not_an_integer(chain, chunk):
    with pytest.raises(TypeError, match="chunk must be an integer or None"):
        cb.jacobian(chain, np.zeros(3), mode="forward", chunk=chunk)


def test_refusals_do_not_depend_on_earlier_calls(chain):
    # jacobian caches what it resolved per chain; a chunk equal to a cached one (1.0 == 1,
    # True == 1) or an unhashable argument must still get its own error
    x = np.zeros(3)
    cb.jacobian(chain, x, mode="forward", chunk=1)
    for chunk in (1.0, True, [1]):
        with pytest.raises(TypeError, match="chunk must be an integer or None"):
            cb.jacobian(chain, x, mode="forward", chunk=chunk)
    with pytest.raises(ValueError, match=r"unknown mode \['forward'\]"):
        cb.jacobian(chain, x, mode=["forward"])
    with pytest.raises(ValueError, match="between 1 and the number of inputs n = 3, got 4"):
        cb.jacobian(chain, x, mode="forward", chunk=4)


def test_not_a_chain():
    for call in (cb.jacobian, cb.record_tape):
        with pytest.raises(TypeError, match="chain must be a chainbench.Chain, got list"):
            call([cb.Tanh()], np.zeros(3))
    with pytest.raises(TypeError, match="spec must be a string, got list"):
        cb.Chain.from_spec(["dense:3"], n=2)


# --- parameters are read-only; options of numpy types; masked arrays; steps; op codes -------


def test_parameters_are_read_only_once_in_a_chain():
    # the chain compiles its parameters once: a change in place would be silently ignored
    W = np.ones((2, 3))
    chain = cb.Chain([cb.Dense(W, np.zeros(2)), cb.Tanh()])
    J = cb.jacobian(chain, np.zeros(3), mode="reverse")
    for array in (chain.layers[0].W, chain.layers[0].b):
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[:] = 0.0
    W[:] = 5.0  # the caller's array was copied and stays theirs
    np.testing.assert_array_equal(cb.jacobian(chain, np.zeros(3), mode="reverse"), J)
    np.testing.assert_array_equal(cb.jacobian(chain, np.zeros(3), mode="forward"), J)


def test_parameters_stay_read_only_through_pickle():
    import pickle

    chain = pickle.loads(pickle.dumps(cb.Chain.from_spec("dense:3 tanh dense:2", n=2)))
    assert not chain.layers[0].W.flags.writeable and not chain.layers[2].b.flags.writeable
    assert np.isfinite(cb.jacobian(chain, np.zeros(2))).all()


@pytest.mark.parametrize("mode", ["revolve", "sqrt-checkpoint"])
def test_snapshots_of_numpy_integer_type_like_chunk(mode):
    chain = cb.Chain.from_spec("dense:3 tanh dense:3 tanh dense:3 tanh dense:2", n=3)
    x = np.full(3, 0.3)
    expected = cb.jacobian(chain, x, mode, snapshots=2)
    np.testing.assert_array_equal(cb.jacobian(chain, x, mode, snapshots=np.int64(2)), expected)
    np.testing.assert_array_equal(
        cb.jacobian(chain, x, mode, chunk=np.int64(2), snapshots=np.int32(2)), expected)


def test_masked_inputs_are_refused(chain):
    x = np.ma.masked_array([0.1, 0.2, 0.3], mask=[False, True, False])
    for call in (chain, lambda x: cb.jacobian(chain, x), lambda x: cb.record_tape(chain, x),
                 lambda x: cb.jvp(chain, x, np.ones(3))):
        with pytest.raises(TypeError, match=r"x is a masked array .* the mask would be ignored"):
            call(x)
    v = np.ma.masked_array(np.ones(3), mask=[True, False, False])
    with pytest.raises(TypeError, match="v is a masked array"):
        cb.jvp(chain, np.zeros(3), v)
    with pytest.raises(TypeError, match="u is a masked array"):
        cb.vjp(chain, np.zeros(3), np.ma.masked_array(np.ones(2), mask=[True, False]))
    # nothing masked: nothing would be ignored
    plain = np.ma.masked_array([0.1, 0.2, 0.3], mask=False)
    np.testing.assert_array_equal(cb.jacobian(chain, plain), cb.jacobian(chain, plain.data))


@pytest.mark.parametrize("step", [1e300, 1.5, np.float64(2.0)])
def test_step_beyond_one_is_refused_with_the_range(step):
    chain = cb.Chain.from_spec("dense:2 tanh", n=2)
    for mode in ("fd-forward", "fd-central", "complex-step"):
        with pytest.raises(ValueError, match=r"step must be in \(0, 1\] \(relative"):
            cb.jacobian(chain, np.zeros(2), mode=mode, step=step)
    assert np.isfinite(cb.jacobian(chain, np.zeros(2), mode="fd-central", step=1.0)).all()


@pytest.mark.parametrize("mode, step, floor", [("fd-forward", 1e-300, "1e-16"),
                                                ("fd-central", 5e-17, "1e-16"),
                                                ("complex-step", 1e-310, "1e-300")])
def test_step_below_rounding_is_refused_with_the_usable_range(mode, step, floor):
    chain = cb.Chain.from_spec("dense:2 tanh", n=2)
    with pytest.raises(ValueError, match=rf"{mode}: step must be in \[{floor}, 1\] \(relative"):
        cb.jacobian(chain, np.zeros(2), mode=mode, step=step)
    assert np.isfinite(cb.jacobian(chain, np.zeros(2), mode=mode, step=float(floor))).all()


def test_a_layer_the_kernels_do_not_run_is_refused():
    class Custom(cb.Layer):  # op code -1: no kernel for it, once NaN at every entry
        name = "custom"

    class Impostor(cb.Layer):  # tanh's op code on a class that is not Tanh
        name, op = "impostor", cb.Tanh.op

    with pytest.raises(TypeError, match=r"layer 1 \(Custom\) has op code -1, which the "
                                        r"kernels do not run; a new layer needs its rules"):
        cb.Chain([cb.Dense(np.ones((2, 2))), Custom()])
    with pytest.raises(TypeError, match=rf"op code {cb.Tanh.op}, which the kernels do not "
                                        r"run \(it is Tanh's\)"):
        cb.Chain([Impostor()], n=2)

    class MyTanh(cb.Tanh):  # a subclass of a registered layer runs its kernels: accepted
        pass

    assert cb.Chain([MyTanh()], n=2).depth == 1


@pytest.mark.parametrize(
    "spec, n, match",
    [
        ("conv:4", 8, r"layer 'conv:4': Conv: kernel size K must be odd .* got K = 4"),
        ("conv:9", 8, (r"layer 'conv:9': Conv: kernel size K = 9 is wider than the layer's "
                       r"width 8; use K ≤ 8")),
        ("dense:3 conv:5", 8, r"K = 5 is wider than the layer's width 3"),
        ("conv", 8, r"layer 'conv' needs 1 argument\(s\), as in conv:K"),
        ("conv:0", 8, r"layer 'conv:0': K must be ≥ 1, got 0"),
        ("grouped:8:3", 6, (r"layer 'grouped:8:3': Grouped: G = 3 blocks do not divide the "
                            r"width 8; G must divide both")),
        ("grouped:6:4", 6, r"G = 4 blocks do not divide the input width 6"),
        ("grouped:8", 8, r"layer 'grouped:8' needs 2 argument\(s\), as in grouped:WIDTH:G"),
        ("grouped:8:x", 8, r"layer 'grouped:8:x': G 'x' is not an integer"),
    ],
)
def test_bad_structured_layers_in_spec(spec, n, match):
    with pytest.raises(ValueError, match=match):
        cb.Chain.from_spec(spec, n=n)


def test_bad_structured_layers_built_from_arrays():
    with pytest.raises(ValueError, match="kernel size K must be odd"):
        cb.Conv(np.ones(2))
    with pytest.raises(ValueError, match=r"Chain: layer 0 \(conv\) cannot take width 3 .*"
                                         r"K = 5 is wider than the layer's width 3"):
        cb.Chain([cb.Conv(np.ones(5))], n=3)
    with pytest.raises(ValueError, match=r"Grouped: W must be a 3-D array"):
        cb.Grouped(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Grouped: b has shape \(3,\) but W is \(2, 2, 1\)"):
        cb.Grouped(np.ones((2, 2, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"its 2 blocks take 4 inputs but the input has width 5"):
        cb.Chain([cb.Dense(np.ones((5, 2))), cb.Grouped(np.ones((2, 2, 2)))])


@pytest.mark.parametrize("call", [
    lambda: cb.predict("dense:4", "forward"),
    lambda: cb.predict_time(None, "forward"),
    lambda: cb.sparsity("conv:3"),
    lambda: cb.coloring("conv:3"),
    lambda: cb.predict(3, "reverse"),
], ids=["predict-spec", "predict_time-None", "sparsity-spec", "coloring-spec", "predict-int"])
def test_a_chain_that_is_neither_chain_nor_shape_is_named(call):
    with pytest.raises(TypeError, match="must be a chainbench.Chain or ChainShape, got"):
        call()


def test_a_spec_string_in_place_of_a_chain_is_told_how_to_become_one():
    with pytest.raises(TypeError, match=r"ChainShape.from_spec\('dense:4', n\)"):
        cb.predict("dense:4", "forward")


def test_a_sparse_modes_chunk_is_bounded_by_its_colors_and_says_so():
    chain = cb.Chain.from_spec("conv:13 tanh", n=65, seed=0)
    for mode, side in (("sparse-forward", "columns"), ("sparse-reverse", "rows")):
        lanes = cb.coloring(chain, side).count
        assert lanes < chain.n  # else the message could not tell colors from n
        with pytest.raises(ValueError, match=rf"between 1 and the {lanes} colors of J's {side} "
                                             rf"\(mode '{mode}' moves one lane per color"):
            cb.jacobian(chain, np.zeros(65), mode, chunk=lanes + 1)
    with pytest.raises(ValueError, match="between 1 and the number of inputs n = 65, got 66"):
        cb.jacobian(chain, np.zeros(65), "forward", chunk=66)
