"""The reference ground station's rules for what a drone sends (DRONE.md 4 and 5):
the shape each telemetry field must have for the station's formatters, its
colour checks (4.2), the checks that enable its buttons (4.3), and the shape
of a config reply its editor can walk (5.1). Used by ``station.py``."""

import math
import re

# The 13 keys of a record (DRONE.md 4).
RECORD_KEYS = ("git_version", "config_version", "animation_info", "battery", "armed", "fcu_status",
               "calibration_status", "mode", "selfcheck", "current_position", "start_position",
               "last_task", "time_delta")
# Root keys of the config reply, in a fresh file's order (DRONE.md 5.1).
CONFIG_ROOT = ("config_name", "config_version", "id", "clover_dir", "SERVER", "BROADCAST", "TELEMETRY",
               "FLIGHT", "FLOOR FRAME", "GPS FRAME", "ANIMATION", "LED", "FAILSAFE", "EMERGENCY LAND",
               "SYSTEM", "NTP")
# GS [CHECKS] defaults (srvspec).
BATTERY_MIN = 50.0
START_POS_DELTA_MAX = 1.0
TIME_DELTA_MAX = 1.0
LAST_TASKS = ("execute_frame", "turn_off_led", "takeoff", "land", "reach_point", "arming_wrapper")
LAST_TASK = re.compile(r"^(No task|paused|(%s)( in -?\d+\.\d s)?)$" % "|".join(LAST_TASKS))


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_nan(v):
    return isinstance(v, float) and math.isnan(v)


def unpackable(key, v):
    """Why the GS's formatter or check for `key` would raise on `v` (None: it would not)."""
    if key in ("git_version", "config_version", "fcu_status", "calibration_status", "mode", "last_task"):
        if not isinstance(v, str):
            return "must be a string"
        if key == "last_task" and not LAST_TASK.match(v):
            return "not a last_task the reference produces"
        if key == "calibration_status" and v == "CALIBRATING":
            return "a drone never sends CALIBRATING (it disables the GS's buttons)"
    elif key == "armed":
        if not isinstance(v, bool):
            return "must be a bool"
    elif key == "animation_info":
        if not isinstance(v, list) or len(v) != 2:
            return "must be [id, state]"
        if v[0] is not None and not isinstance(v[0], str) or not isinstance(v[1], str):
            return "must be [string or null, string]"
    elif key == "battery":
        if not isinstance(v, list) or len(v) != 2 or not all(is_number(x) for x in v):
            return "must be [volts, fraction], two numbers"
    elif key == "selfcheck":
        if v != "OK" and not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
            return "must be \"OK\" (the string) or a list of failure strings"
    elif key == "current_position":
        if v != "NO_POS":
            if not isinstance(v, list) or len(v) != 5:
                return "must be [x, y, z, yaw, frame_id] (exactly 5 items) or \"NO_POS\""
            if not all(is_number(x) for x in v[:4]) or not isinstance(v[4], str):
                return "must be four numbers and a frame id"
    elif key == "start_position":
        if not isinstance(v, list) or len(v) != 6:
            return "must be [x, y, z, yaw, action, delay] (exactly 6 items)"
        if not all(is_number(x) for x in v[:4]) or not isinstance(v[4], str) or not is_number(v[5]):
            return "must be four numbers, an action string and a delay"
    elif key == "time_delta":
        if not is_number(v):
            return "must be a number (Unix seconds at sending)"
    return None


def checks(c, git=None):
    """Each checked column's colour for the cells `c` (key -> stored value): True
    green, False red, None yellow (never received). `git`: the GS's own hash
    (None: the version check passes, as for a GS outside a git checkout)."""
    result = {}

    def check(key, rule):
        result[key] = None if key not in c else bool(rule(c[key]))

    check("git_version", lambda v: git is None or v == git)
    check("animation_info", lambda v: bool(v) and str(v[1]) == "OK")
    check("battery", lambda v: not any(is_nan(x) for x in v) and v[1] * 100 > BATTERY_MIN)
    check("fcu_status", lambda v: v == "STANDBY")
    check("calibration_status", lambda v: v == "OK")
    check("mode", lambda v: v != "NO_FCU" and "CMODE" not in v)
    check("selfcheck", lambda v: v == "OK")
    check("current_position", lambda v: v != "NO_POS" and not is_nan(v[0]))
    check("time_delta", lambda v: v < TIME_DELTA_MAX)

    def start(v):
        if v[4] not in ("fly", "takeoff"):
            return False
        current = c.get("current_position")
        if current is None:
            return True
        if current == "NO_POS":
            return False
        d = math.sqrt(sum((a - b) ** 2 for a, b in zip(current[:3], v[:3])))
        return d < START_POS_DELTA_MAX  # NaN fails
    check("start_position", start)
    return result


def failing(c, keys, git=None):
    """(key, why) for each of `keys` whose check does not pass."""
    colours = checks(c, git)
    out = []
    for key in keys:
        colour = colours[key]
        if colour is not True:
            out.append((key, "never received (yellow)" if colour is None else "red: %r" % (c.get(key),)))
    return out


# Start animation (all_checks) and Takeoff (takeoff_checks), DRONE.md 4.3.
ALL_CHECKS = ("git_version", "animation_info", "battery", "fcu_status", "calibration_status", "mode",
              "selfcheck", "current_position", "time_delta", "start_position")
TAKEOFF_CHECKS = ("battery", "fcu_status", "mode", "selfcheck", "current_position")


def config_shape(section, spec, path):
    """What the editor could not walk: every option {"__value__": v}, every spec'd option present."""
    problems = []
    for key, value in section.items():
        if not path and key in ("initial_comment", "final_comment"):
            if not isinstance(value, list):
                problems.append("%s must be a list of strings" % key)
            continue
        where = "/".join(path + [key])
        if not isinstance(value, dict):
            problems.append("%s: an option must be {\"__value__\": v}, got %r" % (where, value))
        elif "__value__" in value:
            comments = value.get("comments", [])
            if not isinstance(comments, list) or not all(isinstance(c, str) for c in comments):
                problems.append("%s: comments must be a list of strings" % where)
        else:
            sub = spec.get(key) if isinstance(spec, dict) else None
            problems += config_shape(value, sub if isinstance(sub, dict) else {}, path + [key])
    if isinstance(spec, dict):
        for key, check in spec.items():
            if key.startswith("__"):
                continue  # configobj's __many__ and the like
            if key not in section:
                problems.append("%s: in the configspec, missing from the config" % "/".join(path + [key]))
            elif not isinstance(check, (str, dict)):
                problems.append("%s: a configspec check must be a string" % "/".join(path + [key]))
    return problems
