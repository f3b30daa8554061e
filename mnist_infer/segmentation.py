"""Cut one line of written digits into candidate digits, for reading a number by recognition.

The ink pieces of the image (``mnist_infer.pieces``, after clutter removal) are first tidied:
specks far from the writing are dropped, and a piece lying over or under another one (a 5's
detached bar, the loops of a broken 8) joins it. What is left, read left to right, are the
*atoms*. An atom wider than one digit (digits that touch) is split further at candidate cuts:
the columns where its ink is thinnest. A *candidate* digit is a run of consecutive atoms (a 4
drawn in two strokes is two atoms) whose width a digit could have; each is framed MNIST-style.

Ink that ``digit_count`` finds to be one digit is framed as ``predict`` frames it, so the two
agree on single digits. Otherwise, which candidates make the number is the model's call, not
this module's: ``best_reading`` takes each candidate's log-probability and finds the run of
candidates from the first atom to the last with the best joint score, with a prior on width
taken from the line's height and a cost for every cut made through ink (by how many strokes
it crosses). Keeping the two apart lets the classifier score every
candidate of many images in one batched session call.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from mnist_infer.clutter import remove_clutter
from mnist_infer.errors import LineTooLongError, NoDigitFoundError, NotALineError
from mnist_infer.framing import frame_pieces
from mnist_infer.imageops import Components, box_gap, dilate
from mnist_infer.levels import ANALYSIS_SIDE, SMALL_IMAGE, ink_levels
from mnist_infer.pieces import InkPieces, Piece, find_pieces

__all__ = [
    "Candidate",
    "Lattice",
    "best_reading",
    "digit_count",
    "number_lattice",
]

#: The analysis copy of a wide image keeps its shorter side at least this many pixels (up to
#: ``MAX_SIDE`` on the longer side), so each digit of a long number is still well resolved.
LINE_SIDE: Final = 64
MAX_SIDE: Final = 480
#: A line is read only when its analysis copy keeps it this many pixels tall: drawn lines of 4
#: to 40 digits (aspect 3 to 32) all read right down to 15 pixels; 48 digits at 12.5 pixels
#: read as nothing. So an image may be at most ``MAX_ASPECT`` (30) times longer than it is tall.
MIN_LINE_PIXELS: Final = 16
MAX_ASPECT: Final = MAX_SIDE // MIN_LINE_PIXELS
#: Lines of writing are further apart than this many line heights, and each holds a piece at
#: least ``LINE_PIECE_HEIGHT`` line heights tall (a whole digit, not a broken stroke).
LINE_GAP: Final = 0.25
LINE_PIECE_HEIGHT: Final = 0.8
#: Pieces holding at least this share of the heaviest piece's ink set the line's height.
LINE_PIECE_FRACTION: Final = 0.2
#: A piece under this share of the line's height and of the heaviest piece's ink is a speck
#: when it lies further than ``SPECK_GAP`` line heights from every other piece.
SPECK_HEIGHT: Final = 0.35
SPECK_FRACTION: Final = 0.1
SPECK_GAP: Final = 0.3
#: A piece overlapping another by this share of its own width, and shorter than
#: ``JOIN_HEIGHT`` line heights, belongs to it (a detached bar, a broken loop).
JOIN_OVERLAP: Final = 0.6
JOIN_HEIGHT: Final = 0.6
#: ...or when the two lie one above the other, sharing under this share of the shorter one's
#: rows (the halves of a broken 3 or 8: digits of one line lie side by side).
STACKED: Final = 0.3
#: Atoms wider than this many line heights may hold several touching digits: they get cuts.
SPLIT_WIDTH: Final = 0.6
#: Where two or more groups are at most ``SINGLE_WIDTH`` line heights wide (digits written
#: apart), a group is cut only if it is ``SPLIT_OVER_SINGLE`` times as wide as most of them.
SINGLE_WIDTH: Final = 0.9
SPLIT_OVER_SINGLE: Final = 1.2
#: Besides the thinnest columns, a group wider than ``EVEN_WIDTH`` line heights gets a cut
#: every ``EVEN_CUT`` line heights.
EVEN_CUT: Final = 0.25
EVEN_WIDTH: Final = 1.1
#: Cuts stay this many line heights from an atom's ends and from each other.
CUT_MARGIN: Final = 0.18
CUT_SPACING: Final = 0.12
#: Candidates wider than this many line heights are not considered; a run of at most
#: ``MAX_RUN`` atoms makes one candidate.
MAX_WIDTH: Final = 1.25
MAX_RUN: Final = 8
#: Log-score of a cut made through ink, by how many strokes the cut column crosses: digits
#: that touch meet in one stroke; cutting one digit in two crosses two or three (a 0, a 3).
CUT_COSTS: Final = (0.0, math.log(0.7), math.log(0.3))
#: Width prior: a candidate wider than ``WIDE`` line heights loses ``WIDE_COST`` per line height
#: beyond it; one shorter than ``LOW`` line heights loses ``LOW_COST`` per line height short.
WIDE: Final = 0.95
WIDE_COST: Final = 8.0
LOW: Final = 0.6
LOW_COST: Final = 6.0
#: Digits side by side share at least this share of the shorter one's rows.
SIDE_BY_SIDE: Final = 0.5
#: Ink that ``digit_count`` finds to be one digit is read as one digit when no group of it is
#: wider than ``WIDE_ONE`` times its height; wider ink may be touching digits, read by the
#: model, with ``WHOLE_BONUS`` (log-score) for reading it as the one digit ``predict`` sees.
WIDE_ONE: Final = 1.0
WHOLE_BONUS: Final = 0.0
#: Several digits (for ``digit_count``): each at least this share of the line's height, and
#: ``DIGIT_WIDTH`` of it wide (a printed line left over is thinner than any pen's 1)...
DIGIT_HEIGHT: Final = 0.55
DIGIT_WIDTH: Final = 0.06
#: ...and of the heaviest piece's ink; a group of pieces this many times wider than tall is
#: touching digits, one for each ``TOUCHING_WIDTH`` heights of its width.
DIGIT_FRACTION: Final = 0.25
TOUCHING_ASPECT: Final = 2.2
TOUCHING_WIDTH: Final = 0.75
#: ...whose ink crosses a single stroke in some column of this middle part of its width.
WAIST: Final = (0.25, 0.75)
#: Groups less than ``BROKEN_GAP`` line heights apart, one of them spanning under
#: ``BROKEN_HEIGHT`` of the line's height, are one digit broken by a lifted or faint pen (the
#: bent stroke of a 4 beside its upright); digits of a number each span most of the line.
BROKEN_GAP: Final = 0.1
BROKEN_HEIGHT: Final = 0.75
#: ...and their tops are less than this many line heights apart.
BROKEN_TOP: Final = 0.25
#: Faint ink links two groups as one digit's stroke only inside their box, grown by this many
#: line heights: a faint rule, comb or shadow under both runs past it.
LINK_MARGIN: Final = 0.25


@dataclass(frozen=True)
class Candidate:
    """One possible digit: atoms ``start`` to ``stop`` (exclusive), its box and its prior.

    ``box`` is (x0, y0, x1, y1) in source-image pixels, x1 and y1 exclusive. ``prior`` is the
    log-score of its width and height given the line's height, plus that of the cut through ink
    at its right end, if it ends at one (not at a gap between pieces).
    """

    start: int
    stop: int
    box: tuple[int, int, int, int]
    prior: float


@dataclass(frozen=True)
class Lattice:
    """Every candidate digit of one line of writing, framed: what reading it needs of the image.

    ``framed[i]`` is candidate ``i`` in MNIST framing, (28, 28) float32. Picklable, so worker
    processes can build lattices and the process holding the model can score them.
    """

    atoms: int
    candidates: tuple[Candidate, ...]
    framed: npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Atom:
    pieces: tuple[Piece, ...]
    left: int  # analysis columns, stop exclusive
    right: int
    left_cut: bool  # the left end is a cut through ink
    right_cut: bool
    cut_cost: float = 0.0  # log-score of the cut at the right end


def analysis_side(size: tuple[int, int]) -> int:
    """Longer side of the analysis copy for an image of ``size`` (width, height)."""
    longer, shorter = max(size), max(1, min(size))
    return int(min(MAX_SIDE, max(ANALYSIS_SIDE, LINE_SIDE * longer / shorter)))


def number_lattice(image: Image.Image) -> Lattice:
    """Run the front end on a decoded image holding one line of digits; frame every candidate.

    ``image`` is mode "L" or "LA", as ``load_image`` returns it. Raises ``InvalidImageError``
    when it is over ``MAX_ASPECT`` times longer than it is tall (too thin to read),
    ``NoDigitFoundError`` when it holds no ink, and ``NotALineError`` when its ink lies in
    several lines.
    """
    _check_aspect(image.size)
    levels = ink_levels(image, side=analysis_side(image.size))
    found = find_pieces(levels, remove_clutter(levels.evidence.mask))
    groups, height = _groups(found)
    one = _count(found, groups, height) == 1
    if one and _widest_aspect(found, groups) <= WIDE_ONE:
        return _one_digit(found)
    if not one:
        _check_one_line(found, height)
    atoms = _atoms(found, groups, height)
    candidates: list[Candidate] = []
    framed: list[npt.NDArray[np.float32]] = []
    for start in range(len(atoms)):
        for stop in range(start + 1, min(len(atoms), start + MAX_RUN) + 1):
            run = atoms[start:stop]
            left, right = run[0].left, run[-1].right
            width = right - left
            if stop > start + 1 and width > MAX_WIDTH * height:
                break
            pieces = tuple({piece.index: piece for atom in run for piece in atom.pieces}.values())
            columns = (left if run[0].left_cut else None, right if run[-1].right_cut else None)
            try:
                digit = frame_pieces(found, pieces, columns=columns)
            except NoDigitFoundError:
                continue
            top, bottom = _rows(found, pieces, left, right)
            candidates.append(
                Candidate(
                    start=start,
                    stop=stop,
                    box=_source_box(found, (top, bottom, left, right)),
                    prior=_prior(width / height, (bottom - top) / height) + run[-1].cut_cost,
                )
            )
            framed.append(digit)
    if one:  # wide ink the pieces show as one digit: that reading is the one to beat
        whole = _one_digit(found)
        candidates.append(replace(whole.candidates[0], stop=len(atoms), prior=WHOLE_BONUS))
        framed.append(whole.framed[0])
    if not candidates:
        raise NoDigitFoundError("no ink found: the image is blank, uniform or only noise")
    return Lattice(len(atoms), tuple(candidates), np.stack(framed).astype(np.float32))


def _check_aspect(size: tuple[int, int]) -> None:
    """Refuse an image too long for its height: its analysis copy would lose the strokes."""
    aspect = max(size) / max(1, min(size))
    if aspect > MAX_ASPECT:
        raise LineTooLongError(
            f"too long for its height to read as one line ({size[0]}x{size[1]}, {aspect:.0f} "
            f"to 1; at most {MAX_ASPECT} to 1, about {MAX_ASPECT} digits): crop it to the number, "
            "or read a long number in parts"
        )


def _widest_aspect(found: InkPieces, groups: list[list[Piece]]) -> float:
    """Return the largest width over height of the line's groups of pieces."""
    widest = 0.0
    for group in groups:
        left, right = _span(found, group)
        top, bottom = _rows(found, group, left, right)
        widest = max(widest, (right - left) / max(1, bottom - top))
    return widest


def _one_digit(found: InkPieces) -> Lattice:
    """Return the lattice of one digit's ink: that digit, chosen and framed as ``predict`` does."""
    chosen = found.digit()
    boxes = [piece.box for piece in chosen]  # (top, bottom, left, right), source pixels
    box = (
        min(b[2] for b in boxes),
        min(b[0] for b in boxes),
        max(b[3] for b in boxes),
        max(b[1] for b in boxes),
    )
    framed = frame_pieces(found, chosen)
    return Lattice(1, (Candidate(0, 1, box, 0.0),), framed[None].astype(np.float32))


def best_reading(lattice: Lattice, log_scores: npt.NDArray[np.float64]) -> list[int]:
    """Return the candidates (indices, left to right) that read the line best.

    ``log_scores[i]`` is the log-probability of candidate ``i``'s likeliest digit. The reading
    covers every atom once, and maximises the sum of its candidates' scores and priors.
    Raises ``NoDigitFoundError`` when no run of candidates covers the line.
    """
    best = np.full(lattice.atoms + 1, -np.inf)
    best[0] = 0.0
    back: list[int] = [-1] * (lattice.atoms + 1)
    order = sorted(range(len(lattice.candidates)), key=lambda i: lattice.candidates[i].stop)
    for index in order:
        candidate = lattice.candidates[index]
        if not np.isfinite(best[candidate.start]):
            continue
        score = best[candidate.start] + float(log_scores[index]) + candidate.prior
        if score > best[candidate.stop]:
            best[candidate.stop] = score
            back[candidate.stop] = index
    if not np.isfinite(best[lattice.atoms]):
        raise NoDigitFoundError(
            "the ink could not be cut into digits (no run of candidates covers it)"
        )
    chosen: list[int] = []
    end = lattice.atoms
    while end > 0:
        index = back[end]
        chosen.append(index)
        end = lattice.candidates[index].start
    return chosen[::-1]


def digit_count(found: InkPieces, *, small_is_one: bool = True) -> int:
    """How many digits side by side the pieces of a one-digit framing clearly hold (1 if one).

    Counted without the model, for refusing a number where one digit is asked for: tall,
    heavy groups of pieces side by side (sharing most of their rows, as digits of one line do),
    and groups much wider than tall (touching digits).
    Broken strokes of one digit overlap each other, are short, or light, so they count once.
    With ``small_is_one``, an image under ``SMALL_IMAGE`` pixels on its shorter side (an MNIST
    digit saved as a file) holds one digit.
    """
    if small_is_one and min(found.levels.source.size) < SMALL_IMAGE:
        return 1
    return _count(found, *_groups(found))


def _count(found: InkPieces, groups: list[list[Piece]], height: float) -> int:
    """``digit_count`` of the line's groups of pieces (see there)."""
    heaviest = max(piece.mass for piece in found.pieces)
    groups = _join_broken(found, groups, height)
    count = 0
    previous: tuple[int, int] | None = None  # rows of the last group counted
    for group in groups:
        left, right = _span(found, group)
        top, bottom = _rows(found, group, left, right)
        tall = bottom - top
        if tall < DIGIT_HEIGHT * height or right - left < DIGIT_WIDTH * height:
            continue
        if sum(p.mass for p in group) < DIGIT_FRACTION * heaviest:
            continue
        beside = previous is None or _vertical_overlap(
            (top, bottom, left, right), previous
        ) >= SIDE_BY_SIDE * min(tall, previous[1] - previous[0])
        previous = (top, bottom)
        if not beside:
            continue  # above or below the last one: parts of one digit, not the next digit
        aspect = (right - left) / tall
        touching = aspect > TOUCHING_ASPECT and _has_waist(found, group, left, right)
        count += max(1, round(aspect / TOUCHING_WIDTH)) if touching else 1
    return max(count, 1)


def _join_broken(found: InkPieces, groups: list[list[Piece]], height: float) -> list[list[Piece]]:
    """Join neighbouring groups that are one digit's strokes, not two digits.

    Two groups are one digit when faint ink (``InkEvidence.faint``, clutter aside) links them:
    a stroke that fades between them, as a pen running dry leaves it, and so lies within their
    box (a faint rule or comb running under both reaches past it). Or when they are less
    than ``BROKEN_GAP`` line heights apart and one spans under ``BROKEN_HEIGHT`` of the line's
    height: a lifted pen (the bent stroke of a 4 beside its upright), while digits of a number
    each span most of the line.
    """
    if len(groups) < 2:
        return groups
    links, link_boxes = _faint_links(found, groups)
    joined: list[list[Piece]] = [groups[0]]
    linked = [links[0]]
    for group, link in zip(groups[1:], links[1:], strict=True):
        last = joined[-1]
        gap = _span(found, group)[0] - _span(found, last)[1]
        rows = [_rows(found, g, *_span(found, g)) for g in (last, group)]
        shorter = min(bottom - top for top, bottom in rows)
        # The shorter part of a digit broken by a lifted pen starts near its top (a 4's bent
        # stroke, a 5's bar); a smaller digit beside a taller one stands on the baseline.
        hangs = abs(rows[0][0] - rows[1][0]) < BROKEN_TOP * height
        top, bottom, left, right = _box(found, last + group)
        reach = LINK_MARGIN * height
        stroke = any(
            link_boxes[label - 1][0] >= top - reach
            and link_boxes[label - 1][1] <= bottom + reach
            and link_boxes[label - 1][2] >= left - reach
            and link_boxes[label - 1][3] <= right + reach
            for label in linked[-1] & link
        )
        lifted = gap < BROKEN_GAP * height and shorter < BROKEN_HEIGHT * height and hangs
        if stroke or lifted:
            joined[-1] = last + group
            linked[-1] = linked[-1] | link
            continue
        joined.append(group)
        linked.append(link)
    return joined


def _faint_links(
    found: InkPieces, groups: list[list[Piece]]
) -> tuple[list[set[int]], npt.NDArray[np.int64]]:
    """Return, for each group, the pieces of faint ink (not near clutter) its ink lies on.

    With the boxes (top, bottom, left, right) of those faint pieces, by label minus one.
    """
    faint = found.levels.evidence.faint & ~dilate(dilate(found.clutter))
    pieces = Components(faint, grow=False)
    labels = [
        set(np.unique(pieces.labels[_ink_of(found, group)]).tolist()) - {0} for group in groups
    ]
    return labels, pieces.boxes


def _box(found: InkPieces, group: Sequence[Piece]) -> tuple[int, int, int, int]:
    """Top, bottom, left and right (analysis pixels, exclusive ends) of a group of pieces."""
    boxes = [found.analysis_boxes[p.index] for p in group]
    return (
        min(b[0] for b in boxes), max(b[1] for b in boxes),
        min(b[2] for b in boxes), max(b[3] for b in boxes),
    )  # fmt: skip


# --- atoms -----------------------------------------------------------------------------------


def _groups(found: InkPieces) -> tuple[list[list[Piece]], float]:
    """Return the line's pieces without specks, in groups left to right, and the line's height."""
    boxes = found.analysis_boxes
    heaviest = max(piece.mass for piece in found.pieces)
    height = float(max(boxes[p.index][1] - boxes[p.index][0] for p in _line_pieces(found)))
    kept = [p for p in found.pieces if not _is_speck(found, p, height, heaviest)]
    return _join_overlapping(found, kept, height), height


def _line_pieces(found: InkPieces) -> list[Piece]:
    """Return the pieces heavy enough to set the line's height and its bands."""
    heaviest = max(piece.mass for piece in found.pieces)
    return [p for p in found.pieces if p.mass >= LINE_PIECE_FRACTION * heaviest]


def _span(found: InkPieces, group: Sequence[Piece]) -> tuple[int, int]:
    """Left and right (analysis columns, right exclusive) of a group of pieces."""
    boxes = found.analysis_boxes
    return min(boxes[p.index][2] for p in group), max(boxes[p.index][3] for p in group)


def _atoms(found: InkPieces, groups: list[list[Piece]], height: float) -> list[_Atom]:
    """Return the line's atoms, left to right: its groups, wide ones split at candidate cuts."""
    spans = [_span(found, group) for group in groups]
    split_width = SPLIT_WIDTH * height
    single = sorted(right - left for left, right in spans if right - left <= SINGLE_WIDTH * height)
    if len(single) >= 2:  # digits apart from each other show how wide one digit is written
        split_width = max(split_width, SPLIT_OVER_SINGLE * single[(3 * len(single)) // 4])
    atoms: list[_Atom] = []
    for group, (left, right) in zip(groups, spans, strict=True):
        if right - left > split_width:
            atoms.extend(_split(found, tuple(group), left, right, height))
        else:
            atoms.append(_Atom(tuple(group), left, right, False, False))
    return atoms


def _check_one_line(found: InkPieces, height: float) -> None:
    """Raise ``NotALineError`` when tall pieces lie in bands apart from each other vertically.

    The loops of a broken 8 lie one above the other too, but with little or no gap.
    """
    boxes = found.analysis_boxes
    tall = sorted(
        (boxes[p.index][0], boxes[p.index][1])
        for p in _line_pieces(found)
        if boxes[p.index][1] - boxes[p.index][0] >= LINE_PIECE_HEIGHT * height
    )
    bands = 0
    reach = -1
    for top, bottom in tall:
        if top >= reach + LINE_GAP * height or bands == 0:
            bands += 1
        reach = max(reach, bottom)
    if bands > 1:
        raise NotALineError(
            f"the ink lies in {bands} lines; only one line of digits is read at a time"
        )


def _is_speck(found: InkPieces, piece: Piece, height: float, heaviest: float) -> bool:
    box = found.analysis_boxes[piece.index]
    if box[1] - box[0] >= SPECK_HEIGHT * height or piece.mass >= SPECK_FRACTION * heaviest:
        return False
    others = [
        box_gap(box, found.analysis_boxes[other.index])
        for other in found.pieces
        if other is not piece and other.mass > piece.mass
    ]
    return not others or min(others) > SPECK_GAP * height


def _join_overlapping(found: InkPieces, pieces: list[Piece], height: float) -> list[list[Piece]]:
    """Group pieces left to right; a short piece mostly over or under a group joins it."""
    boxes = found.analysis_boxes
    ordered = sorted(pieces, key=lambda p: (boxes[p.index][2] + boxes[p.index][3]) / 2)
    groups: list[list[Piece]] = []
    for piece in ordered:
        _, _, left, right = boxes[piece.index]
        width = max(1, right - left)
        joined = False
        for group in groups[-2:]:
            g_left, g_right = _span(found, group)
            g_top = min(boxes[p.index][0] for p in group)
            g_bottom = max(boxes[p.index][1] for p in group)
            overlap = min(right, g_right) - max(left, g_left)
            short = min(boxes[piece.index][1] - boxes[piece.index][0], g_bottom - g_top)
            g_width = max(1, g_right - g_left)
            stacked = _vertical_overlap(boxes[piece.index], (g_top, g_bottom)) < STACKED * short
            if overlap >= JOIN_OVERLAP * min(width, g_width) and (
                short < JOIN_HEIGHT * height or stacked
            ):
                group.append(piece)
                joined = True
                break
        if not joined:
            groups.append([piece])
    return groups


def _vertical_overlap(box: tuple[int, int, int, int], rows: tuple[int, int]) -> int:
    """Rows a box shares with a span of rows."""
    return max(0, min(box[1], rows[1]) - max(box[0], rows[0]))


def _split(
    found: InkPieces, pieces: tuple[Piece, ...], left: int, right: int, height: float
) -> list[_Atom]:
    """Split a wide group at the columns where its ink is thinnest (candidate cuts)."""
    ink = _ink_of(found, pieces)
    profile = ink[:, left:right].sum(axis=0).astype(np.float64)
    if profile.size >= 3:
        profile = np.convolve(np.pad(profile, 1, mode="edge"), np.ones(3) / 3.0, mode="valid")
    margin = max(1, round(CUT_MARGIN * height))
    spacing = max(1, round(CUT_SPACING * height))
    digits = max(2, round((right - left) / (0.7 * height)))
    inner = range(margin, len(profile) - margin)
    minima = [x for x in inner if profile[x] <= profile[x - 1] and profile[x] <= profile[x + 1]]
    cuts: list[int] = []
    for x in sorted(minima, key=lambda x: (profile[x], x)):
        if all(abs(x - c) >= spacing for c in cuts):
            cuts.append(x)
        if len(cuts) >= 2 * digits:
            break
    if right - left > EVEN_WIDTH * height:  # clearly several digits: try more cuts
        step = max(1, round(EVEN_CUT * height))
        for x in range(margin, len(profile) - margin + 1, step):
            if all(abs(x - c) >= spacing for c in cuts):
                cuts.append(x)
    edges = [left] + [left + x for x in sorted(cuts)] + [right]
    costs = [_cut_cost(ink[:, left + x - 1 : left + x + 2]) for x in sorted(cuts)] + [0.0]
    return [
        _Atom(pieces, a, b, left_cut=i > 0, right_cut=i < len(edges) - 2, cut_cost=costs[i])
        for i, (a, b) in enumerate(itertools.pairwise(edges))
    ]


def _cut_cost(columns: npt.NDArray[np.bool_]) -> float:
    """Log-score of a cut: the fewest strokes (runs of ink) any of these columns crosses."""
    runs = int(_runs(columns).min())
    return CUT_COSTS[min(max(runs, 1), len(CUT_COSTS)) - 1]


def _has_waist(found: InkPieces, group: Sequence[Piece], left: int, right: int) -> bool:
    """Whether the group's ink narrows to one stroke in its middle, as where two digits touch.

    A wide ring, or one digit's long bar under its body, crosses two strokes or more there.
    """
    ink = _ink_of(found, group)[:, left:right]
    width = ink.shape[1]
    middle = ink[:, round(WAIST[0] * width) : max(round(WAIST[1] * width), 1)]
    return bool((_runs(middle) == 1).any())


def _ink_of(found: InkPieces, pieces: Sequence[Piece]) -> npt.NDArray[np.bool_]:
    """Return the analysis-size ink mask of the given pieces only."""
    keep = np.zeros(len(found.pieces) + 1, dtype=np.bool_)
    keep[[piece.index + 1 for piece in pieces]] = True
    ink: npt.NDArray[np.bool_] = keep[found.labels] & found.mask
    return ink


def _runs(columns: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Return how many separate runs of ink (strokes) each column crosses."""
    starts = np.diff(columns.astype(np.int8), axis=0, prepend=0) == 1
    counted: npt.NDArray[np.int64] = starts.sum(axis=0)
    return counted


def _rows(found: InkPieces, pieces: Sequence[Piece], left: int, right: int) -> tuple[int, int]:
    """Top and bottom (analysis rows) of the pieces' ink between two columns."""
    ink = _ink_of(found, pieces)[:, left:right]
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return 0, 1
    return int(rows[0]), int(rows[-1]) + 1


def _source_box(found: InkPieces, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) in analysis pixels -> (x0, y0, x1, y1) in source pixels."""
    levels = found.levels
    factor = levels.source_scale / levels.scale
    full_h = round(levels.source.height * levels.source_scale)
    full_w = round(levels.source.width * levels.source_scale)
    top, bottom, left, right = box
    return (
        math.floor(left * factor),
        math.floor(top * factor),
        int(min(full_w, math.ceil(right * factor))),
        int(min(full_h, math.ceil(bottom * factor))),
    )


def _prior(width: float, height: float) -> float:
    """Log-prior of a candidate's width and height, in line heights."""
    return -WIDE_COST * max(0.0, width - WIDE) - LOW_COST * max(0.0, LOW - height)
