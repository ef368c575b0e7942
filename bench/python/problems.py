"""Four of the tuner's synthetic problems written as plain Python objectives, with their spaces
as sysopt parameter dicts (the same definitions as src/sysopt/problems/test_functions.cc)."""

import math

PI = math.pi


def branin(c):
    x1, x2 = c["x1"], c["x2"]
    b, cc, t = 5.1 / (4 * PI * PI), 5 / PI, 1 / (8 * PI)
    u = x2 - b * x1 * x1 + cc * x1 - 6
    return u * u + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
     [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6(c):
    f = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (c[f"x{j + 1}"] - P[i][j] * 1e-4) ** 2 for j in range(6))
        f -= ALPHA[i] * math.exp(-inner)
    return f


def rosenbrock_int(c):
    x = [c[f"x{j}"] for j in range(1, 5)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


VARIANTS = {"base": (0.0, 0.0, 1.0, 0.6, 2), "shifted": (1.5, -2.0, 1.0, 0.0, 8),
            "scaled": (-1.0, 2.5, 2.0, 0.3, 1)}


def ackley_mixed(c):
    s1, s2, scale, offset, best_level = VARIANTS[c["variant"]]
    z1, z2 = scale * (c["x1"] - s1), scale * (c["x2"] - s2)
    r = math.sqrt(0.5 * (z1 * z1 + z2 * z2))
    cos_mean = 0.5 * (math.cos(2 * PI * z1) + math.cos(2 * PI * z2))
    ackley = -20 * math.exp(-0.2 * r) - math.exp(cos_mean) + 20 + math.e
    dl = math.log2(c["level"]) - math.log2(best_level)
    return ackley + offset + 0.25 * dl * dl


def real(name, low, high):
    return {"name": name, "type": "real", "low": low, "high": high}


PROBLEMS = {
    "branin": (branin, [real("x1", -5.0, 10.0), real("x2", 0.0, 15.0)], 0.397887),
    "hartmann6": (hartmann6, [real(f"x{j}", 0.0, 1.0) for j in range(1, 7)], -3.32237),
    "rosenbrock_int": (rosenbrock_int,
                       [{"name": f"x{j}", "type": "integer", "low": -5, "high": 10}
                        for j in range(1, 5)], 0.0),
    "ackley_mixed": (ackley_mixed,
                     [real("x1", -5.0, 5.0), real("x2", -5.0, 5.0),
                      {"name": "variant", "type": "categorical",
                       "values": ["base", "shifted", "scaled"]},
                      {"name": "level", "type": "ordinal", "values": [1, 2, 4, 8, 16]}], 0.0),
}


def suggest(trial, parameters):
    """The configuration an Optuna trial proposes for sysopt parameter dicts."""
    config = {}
    for p in parameters:
        if p["type"] == "real":
            config[p["name"]] = trial.suggest_float(p["name"], p["low"], p["high"])
        elif p["type"] == "integer":
            config[p["name"]] = trial.suggest_int(p["name"], p["low"], p["high"])
        else:  # ordinal and categorical: Optuna has only unordered choices
            config[p["name"]] = trial.suggest_categorical(p["name"], p["values"])
    return config
