"""The gridworld page in AppTest: worlds, the maze in the link, the click editor,
live tabular and deep Q-learning, settings applied while learning, Sutton &
Barto's figure 6.4 from many runs, and widget fuzzing."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from core.gridworld import PRESETS, GridWorld, cliff_walking, parse_maze, run_batch, value_iteration
from tests.conftest import open_page
from tests.fuzz import fuzz_widgets, problems
from tests.helpers import live_figures, live_view, metric, press, shown_count, status, tick_until, title, trace
from ui import gridworld_views as views

PAGE = "pages/gridworld.py"
CELLS = "walls, goals and pits"  # the maze figure's trace of cell kinds: 0 wall, 1 goal, 2 pit
MARKS = "goals (G) and pits (P): reward for entering"


def kinds(at) -> np.ndarray:
    """The cell kinds the main maze figure draws, as rows x cols with row 1 first (NaN: free)."""
    return np.array(trace(live_figures(at, views.MAZE_VIEW)["maze"], CELLS)["z"], dtype=float)


def maze_title(at) -> str:
    return title(live_figures(at, views.MAZE_VIEW)["maze"])


def moves(at) -> int:
    """The DQN panel's counter ("Move 1,234 of 50,000")."""
    match = re.search(r"Move ([\d,]+) of", status(at))
    return int(match.group(1).replace(",", "")) if match else -1


def click(at, row: int, col: int, kind: str, n: int, **rewards) -> dict:
    """A click on the cell (row, col) (counted from 0) as the browser sends it, applied the way the
    page's callback applies it; returns the state the callback changed."""
    state = {views.MAZE_KEY: at.session_state[views.MAZE_KEY], views.EDIT_KEY: kind,
             views.CLICK_N_KEY: at.session_state[views.CLICK_N_KEY] if views.CLICK_N_KEY in at.session_state
             else None, **rewards}
    # the y axis runs downwards (reversed range): row r is drawn at y = r, row 1 (r = 0) at the top
    views.apply_click(state, {"chart": "maze", "x": col + 0.2, "y": row - 0.3, "n": n, "shift": False})
    return state


def commit(at, state: dict) -> None:
    """What Streamlit does after the callback: the changed keys hold their new values on the next run."""
    for key in (views.MAZE_KEY, views.NOTE_KEY, views.CLICK_N_KEY):
        if key in state:
            at.session_state[key] = state[key]
    at.run()


def test_the_page_opens_on_the_cliff_with_the_books_settings():
    at = open_page(PAGE)
    assert not problems(at)
    assert "Q-learning" in at.title[0].value
    assert at.selectbox(key=views.WORLD_KEY).value == "cliff"
    assert at.select_slider(key="gridworld:alpha").value == 0.5
    assert at.select_slider(key="gridworld:epsilon").value == 0.1
    assert at.select_slider(key="gridworld:episodes").value == 500
    assert maze_title(at).startswith("Q-learning: V = max Q") and maze_title(at).endswith("after 0 episodes")
    cells = kinds(at)
    assert np.all(cells[3, 1:11] == 2) and cells[3, 11] == 1 and np.isnan(cells[:3]).all()  # the cliff, the goal
    # value iteration: 13 moves of -1 along the edge
    assert metric(at, "Optimal") == "-13"
    assert shown_count(at) == 0 and "Episode 0 of 500" in status(at)
    assert list(live_figures(at, views.CHARTS_VIEW)) == ["optimal", "q", "rewards", "lengths"]
    assert list(live_figures(at, views.DQN_VIEW)) == ["dqn", "table", "loss", "rewards"]
    assert "maze" not in at.query_params  # the default maze keeps the link short


def test_the_algorithm_the_world_and_the_slip_change_what_is_shown():
    at = open_page(PAGE)
    at.selectbox(key="gridworld:algorithm").set_value("sarsa").run()
    assert maze_title(at).startswith("SARSA:")
    assert at.query_params["algorithm"] == "sarsa"
    at.selectbox(key=views.WORLD_KEY).set_value("maze8").run()
    assert not problems(at)
    assert at.text_input(key=views.MAZE_KEY).value == PRESETS["maze8"].text
    assert at.query_params["maze"] == PRESETS["maze8"].text
    assert int(np.sum(kinds(at) == 0)) == PRESETS["maze8"].text.count("#")
    assert metric(at, "Optimal") == "-3"  # 14 moves to a goal worth 10: 13 x -1 + 10
    at.slider(key=views.SLIP_KEY).set_value(0.2).run()
    assert parse_maze(at.text_input(key=views.MAZE_KEY).value).slip == 0.2
    assert "slip=0.2" in at.query_params["maze"]
    assert at.selectbox(key=views.WORLD_KEY).value == views.CUSTOM  # no longer the preset
    env = GridWorld(parse_maze(at.query_params["maze"]))
    expected = float(value_iteration(env, 1.0).V[env.start])
    assert metric(at, "Optimal") == f"{expected:.2f}".rstrip("0").rstrip(".")
    assert float(metric(at, "Optimal")) < -3  # slipping costs moves


def _link(at) -> dict[str, str]:
    out = {}
    for k in at.query_params:
        v = at.query_params[k]
        out[k] = v[-1] if isinstance(v, list) else v
    return out


# A link from before the parameter table (gridworld_views' hand-made UrlState calls), every setting off its
# default, and the same settings under today's names.
OLD_LINK = {"maze": PRESETS["maze8"].text, "algorithm": "sarsa", "alpha": "0.1", "epsilon": "0.2", "decay": "0.01",
            "gamma": "0.9", "episodes": "200", "seed": "7", "runs": "100", "hidden": "32", "lr": "0.003",
            "buffer": "2000", "batch": "32", "sync": "10", "dqn_epsilon": "0.5", "dqn_decay": "0.05",
            "moves": "20000"}
RENAMED = {"decay": "epsilon_decay", "hidden": "hidden_units", "lr": "learning_rate", "buffer": "buffer_size",
           "batch": "batch_size", "sync": "sync_every", "dqn_decay": "dqn_epsilon_decay", "moves": "max_moves"}
NEW_LINK = {RENAMED.get(k, k): v for k, v in OLD_LINK.items()}
WIDGETS = {"maze": PRESETS["maze8"].text, "algorithm": "sarsa", "alpha": 0.1, "epsilon": 0.2, "epsilon_decay": 0.01,
           "gamma": 0.9, "episodes": 200, "seed": 7, "runs": 100, "hidden_units": 32, "learning_rate": 0.003,
           "buffer_size": 2000, "batch_size": 32, "sync_every": 10, "dqn_epsilon": 0.5, "dqn_epsilon_decay": 0.05,
           "max_moves": 20000}


def test_an_old_link_opens_the_same_settings_and_the_link_takes_the_new_names():
    from_old, from_new = open_page(PAGE, OLD_LINK), open_page(PAGE, NEW_LINK)
    assert not problems(from_old) and not problems(from_new)
    for name, value in WIDGETS.items():
        key = f"gridworld:{name}"
        assert from_old.session_state[key] == value == from_new.session_state[key], name
    assert _link(from_old) == NEW_LINK == _link(from_new)
    for at in (from_old, from_new):  # the learners are built from them: 200 episodes, 20,000 moves
        assert "Episode 0 of 200" in status(at) and "Move 0 of 20,000" in status(at)
        assert maze_title(at).startswith("SARSA:") and at.selectbox(key=views.WORLD_KEY).value == "maze8"


def test_the_books_button_sets_its_settings_and_leaves_the_others():
    at = open_page(PAGE, NEW_LINK)
    at.button(key="gridworld:book").click().run()
    assert not problems(at)
    book = {"maze": PRESETS["cliff"].text, "alpha": 0.5, "epsilon": 0.1, "epsilon_decay": 0.0, "gamma": 1.0,
            "episodes": 500}  # Sutton & Barto's figure 6.4
    for name, value in {**WIDGETS, **book}.items():
        assert at.session_state[f"gridworld:{name}"] == value, name
    assert _link(at) == {k: v for k, v in NEW_LINK.items() if k not in book}  # the book's values are the defaults


def test_a_maze_link_sets_the_maze_and_the_settings():
    text = "S#G(6)/...;step=-2"
    at = open_page(PAGE, {"maze": text, "gamma": "0.5", "alpha": "0.1", "algorithm": "expected_sarsa"})
    assert not problems(at)
    assert at.text_input(key=views.MAZE_KEY).value == text
    assert at.selectbox(key=views.WORLD_KEY).value == views.CUSTOM
    assert at.select_slider(key="gridworld:gamma").value == 0.5
    assert maze_title(at).startswith("Expected SARSA:")
    cells = kinds(at)
    assert cells[0, 1] == 0 and cells[0, 2] == 1
    assert "<b>G</b> +6" in trace(live_figures(at, views.MAZE_VIEW)["maze"], MARKS)["text"]
    # by hand: down, right, right, up: -2 - 2(0.5) - 2(0.25) + 6(0.125) = -2.75
    assert metric(at, "Optimal") == "-2.75"


def test_an_impossible_maze_gives_the_message_and_no_exception():
    at = open_page(PAGE, {"maze": "S#G/.#./.#."})
    assert not at.exception
    assert any("No goal can be reached from the start" in w.value for w in at.warning)
    # the maze is still drawn, so a click can fix it; nothing trains
    assert maze_title(at) == "The maze (not playable yet)"
    assert not [b for b in at.button if "Start" in b.label]
    state = click(at, 1, 1, ".", n=1)  # open the wall in the middle
    commit(at, state)
    assert not problems(at) and not at.warning
    assert [b for b in at.button if "Start" in b.label]
    # text that does not parse: the reason, no traceback
    at = open_page(PAGE, {"maze": "S.X/..G"})
    assert not at.exception
    assert any("unknown cell 'X' in row 1, column 3" in w.value for w in at.warning)
    # gamma = 1 with a paying move: wandering forever would win
    at = open_page(PAGE, {"maze": "S..G;step=1"})
    assert not at.exception
    assert any("wandering forever beats any goal" in w.value for w in at.warning)


def test_clicking_a_cell_changes_the_maze_and_the_link():
    at = open_page(PAGE)
    state = click(at, 0, 2, "#", n=1)  # row 1, column 3 becomes a wall
    assert parse_maze(state[views.MAZE_KEY]).kind((0, 2)) == "#"
    # Streamlit may deliver one click twice: the second delivery changes nothing
    state[views.EDIT_KEY] = "."
    views.apply_click(state, {"chart": "maze", "x": 2.2, "y": 0.3, "n": 1})
    assert parse_maze(state[views.MAZE_KEY]).kind((0, 2)) == "#"
    commit(at, state)
    assert not problems(at)
    assert kinds(at)[0, 2] == 0
    assert at.query_params["maze"] == state[views.MAZE_KEY] and "#" in at.query_params["maze"]
    assert at.selectbox(key=views.WORLD_KEY).value == views.CUSTOM
    # a goal with its reward, then the start moves
    commit(at, click(at, 0, 0, "G", n=2, **{views.GOAL_REWARD_KEY: 25.0}))
    assert "<b>G</b> +25" in trace(live_figures(at, views.MAZE_VIEW)["maze"], MARKS)["text"]
    commit(at, click(at, 1, 0, "S", n=3))
    assert parse_maze(at.query_params["maze"]).start == (1, 0)
    # the goal row 1, column 1 is one move from the new start: -1 per move is never paid, +25 at once
    assert metric(at, "Optimal") == "25"


def test_a_click_that_would_cut_off_every_goal_is_refused_with_the_reason():
    at = open_page(PAGE, {"maze": "S#G/..."})
    state = click(at, 1, 1, "#", n=1)
    assert state[views.MAZE_KEY] == "S#G/..."  # unchanged
    commit(at, state)
    assert any("Not applied: a wall at row 2, column 2" in w.value and "No goal can be reached" in w.value
               for w in at.warning)
    assert not at.exception
    assert [b for b in at.button if "Start" in b.label]  # the maze stays playable


def test_start_trains_and_pause_stops():
    at = open_page(PAGE)
    press(at, "Start", ticks=1, panel=views.TAB_KEY)
    tick_until(at, lambda a: shown_count(a) >= 30)
    assert not problems(at)
    shown = shown_count(at)
    # the step drawn is the step of the data drawn
    assert live_view(at, views.MAZE_VIEW)["step"] == shown
    assert maze_title(at).endswith(f"after {shown:,} episodes")
    rewards = trace(live_figures(at, views.CHARTS_VIEW)["rewards"], "reward")
    assert len(rewards["y"]) == shown
    press(at, "Pause", panel=views.TAB_KEY)
    paused = shown_count(at)
    at.run()
    at.run()
    assert shown_count(at) == paused


def test_a_click_while_it_learns_redraws_the_page_and_starts_again_on_the_new_maze():
    at = open_page(PAGE)
    press(at, "Start", ticks=2, panel=views.TAB_KEY)
    trainer = at.session_state[views.TAB_KEY].trainer
    assert trainer.step > 0
    state = click(at, 2, 5, "#", n=1)
    assert state[views.PENDING_KEY] is True  # the live view asks for a whole-page run
    at.session_state[views.PENDING_KEY] = True
    commit(at, state)
    assert not problems(at)
    assert at.session_state[views.TAB_KEY].trainer is not trainer
    assert at.session_state[views.TAB_KEY].trainer.config.maze.kind((2, 5)) == "#"
    assert kinds(at)[2, 5] == 0 and shown_count(at) == 0
    assert any("training starts again from step 0" in c.value for c in at.caption)


def test_changing_epsilon_while_it_learns_keeps_the_same_run():
    at = open_page(PAGE)
    press(at, "Start", ticks=2, panel=views.TAB_KEY)
    run = at.session_state[views.TAB_KEY]
    trainer, step = run.trainer, run.trainer.step
    assert step > 0
    at.select_slider(key="gridworld:epsilon").set_value(0.3).run()
    assert at.session_state[views.TAB_KEY].trainer is trainer, "the same table goes on learning"
    assert trainer.learner.epsilon == 0.3 and trainer.step >= step
    assert trainer.changes and trainer.changes[0][0] == step and "epsilon" in trainer.changes[0][1]
    assert at.query_params["epsilon"] == "0.3"
    at.run()
    assert any("Applied to the running model at episode" in c.value for c in at.caption)
    assert live_view(at, views.CHARTS_VIEW)["markers"][0][0] == step
    assert metric(at, "ε now") == "0.3"
    # alpha applies live too; the algorithm does not: that starts again
    at.select_slider(key="gridworld:alpha").set_value(0.1).run()
    assert at.session_state[views.TAB_KEY].trainer is trainer and trainer.learner.alpha == 0.1
    at.selectbox(key="gridworld:algorithm").set_value("sarsa").run()
    assert at.session_state[views.TAB_KEY].trainer is not trainer and shown_count(at) == 0


def test_the_figure_6_4_settings_show_sarsa_above_q_learning_online(monkeypatch):
    monkeypatch.setattr(views, "AVERAGE_SECONDS", 600.0)  # all 20 runs however busy the machine (compared below)
    at = open_page(PAGE, {"runs": "20", "alpha": "0.1", "episodes": "200"})
    at.button(key="gridworld:book").click().run()  # the book's settings put back alpha 0.5 and 500 episodes
    assert at.select_slider(key="gridworld:alpha").value == 0.5
    assert at.select_slider(key="gridworld:episodes").value == 500
    press(at, "📊 Average 20 runs")
    assert not problems(at)
    q, s = float(metric(at, "Q-learning")), float(metric(at, "SARSA"))
    # the book's figure: SARSA near -25, Q-learning near -50 (late episodes, epsilon-greedy online)
    assert -35 < s < -20 and -60 < q < -40 and s > q
    # the same runs computed directly from the engine (page seeds: seed 0, first chunk)
    env = cliff_walking()
    for name, alg, shown in (("Q-learning", "q_learning", q), ("SARSA", "sarsa", s)):
        late = run_batch(env, alg, 20, 500, 0.5, 0.1, 1.0, 0).episode_rewards[:, 400:].mean()
        assert shown == pytest.approx(late, abs=0.05), name
    assert any("SARSA earns more online" in m.value for m in at.markdown)
    titles = {k: title(f) for k, f in live_figures(at, views.AVG_VIEW).items()}
    assert titles["path-q_learning"].endswith("(13 moves)")  # along the cliff's edge
    assert titles["path-sarsa"].endswith("(17 moves)")  # the safe way along the top
    path = trace(live_figures(at, views.AVG_VIEW)["path-sarsa"], "episode path (17 moves)")
    assert min(y for y in path["y"] if y is not None) == 0  # it reaches the top row (y = row on the downward axis)


def test_averages_that_would_take_too_long_stop_in_time_with_a_message(monkeypatch):
    monkeypatch.setattr(views, "AVERAGE_SECONDS", 0.3)
    monkeypatch.setattr(views, "MIN_CHUNK_SECONDS", 0.3)
    # random moves only, on the 8 x 8 maze, 5,000 episodes: millions of moves
    at = open_page(PAGE, {"maze": PRESETS["maze8"].text, "epsilon": "1.0", "episodes": "5000", "runs": "20"})
    started = time.perf_counter()
    press(at, "📊 Average 20 runs")
    assert time.perf_counter() - started < 20
    assert not problems(at)
    assert any("take longer than this page allows" in w.value for w in at.warning)
    assert not [m for m in at.metric if m.label == "SARSA"]


def test_deep_q_learning_trains_on_the_same_maze_and_takes_settings_live():
    at = open_page(PAGE)
    press(at, "Start", ticks=1, panel=views.DQN_KEY)
    tick_until(at, lambda a: moves(a) >= 130, max_ticks=200)
    assert not problems(at)
    figs = live_figures(at, views.DQN_VIEW)
    assert title(figs["dqn"]).startswith("Network: V = max Q") and title(figs["table"]).startswith("Table (Q-learning)")
    # learning starts once the buffer holds a batch (64 moves); the target copies every 50 gradient steps
    loss = trace(figs["loss"], "loss")
    assert loss["x"][0] == 64
    assert trace(figs["loss"], "target network synced")["x"][0] == 64 + 50 - 1
    assert metric(at, "Buffer filled") != "0%"
    run = at.session_state[views.DQN_KEY]
    trainer = run.trainer
    at.select_slider(key="gridworld:learning_rate").set_value(3e-3).run()
    assert at.session_state[views.DQN_KEY].trainer is trainer
    assert trainer.optimizer.param_groups[0]["lr"] == 3e-3
    at.select_slider(key="gridworld:hidden_units").set_value(32).run()  # a new network: starts again
    assert at.session_state[views.DQN_KEY].trainer is not trainer and moves(at) == 0


def test_fuzzing_the_widgets_never_breaks_the_page():
    at = open_page(PAGE)
    changed = fuzz_widgets(at, rounds=10, seed=7)
    assert changed >= 10
    press(at, "Start", ticks=1, panel=views.TAB_KEY)
    assert not problems(at)
