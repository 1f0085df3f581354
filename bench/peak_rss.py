"""This process's peak RSS in MB from /proc/self/status VmHWM (ru_maxrss carries over fork+exec)."""
import re


def peak_rss_mb():
    with open("/proc/self/status") as f:
        return int(re.search(r"^VmHWM:\s+(\d+) kB$", f.read(), re.M).group(1)) / 1024
