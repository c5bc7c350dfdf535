"""What the record tests share: reading a value out of each run of a benchmark record, and
the one-standard-deviation bounds that "beyond seed noise" means in the chapters."""
import statistics


def values(runs, *path):
    """float(run[path[0]][path[1]]...) for each run."""
    out = []
    for r in runs:
        for key in path:
            r = r[key]
        out.append(float(r))
    return out


def low(xs):
    """Mean minus one standard deviation over the seeds."""
    return statistics.mean(xs) - statistics.stdev(xs)


def high(xs):
    """Mean plus one standard deviation over the seeds."""
    return statistics.mean(xs) + statistics.stdev(xs)
