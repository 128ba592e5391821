/**
 * Process measurement for the benchmark: wall time, CPU time (user + sys) and peak RSS of one
 * child process, plus the small statistics the report needs (median, least-squares line).
 *
 * CPU and peak RSS come from GNU time (`/usr/bin/time -f`, Debian package `time`), which reads
 * them from wait4()'s rusage, so they cover the whole child, worker threads included. Without
 * GNU time they come from polling /proc/<pid>, which misses the last few milliseconds before exit
 * and is marked as approximate.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const GNU_TIME = "/usr/bin/time";

let gnuTimeChecked = null;

/** Whether GNU time is installed (BusyBox and shell built-ins lack `-f`/`-o`). */
export function hasGnuTime() {
  if (gnuTimeChecked === null) {
    const probe = spawnSync(GNU_TIME, ["-f", "%M", "true"], { encoding: "utf8" });
    gnuTimeChecked = probe.status === 0 && /^\d+\s*$/m.test(probe.stderr ?? "");
  }
  return gnuTimeChecked;
}

/**
 * Runs `command args` to completion and measures it.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, stdoutFile?: string, env?: NodeJS.ProcessEnv }} [options]
 * @returns {Promise<{ wallMs: number, cpuMs: number, userMs: number, sysMs: number, maxRssKb: number, exitCode: number | null, signal: string | null, stderr: string, approximate: boolean }>}
 */
export function runMeasured(command, args, options = {}) {
  const gnu = hasGnuTime();
  const timeFile = gnu ? path.join(os.tmpdir(), `rollsafe-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`) : null;
  const stdoutFd = options.stdoutFile ? fs.openSync(options.stdoutFile, "w") : "ignore";
  const argv = gnu ? ["-f", "%U %S %M", "-o", timeFile, command, ...args] : args;
  const started = performance.now();
  const child = spawn(gnu ? GNU_TIME : command, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", stdoutFd, "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    if (stderr.length < 64 * 1024) stderr += chunk;
  });
  const poll = gnu ? null : startProcPolling(child.pid);
  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      if (typeof stdoutFd === "number") fs.closeSync(stdoutFd);
      reject(error);
    });
    child.on("close", (code, signal) => {
      const wallMs = performance.now() - started;
      if (typeof stdoutFd === "number") fs.closeSync(stdoutFd);
      let userMs = NaN;
      let sysMs = NaN;
      let maxRssKb = NaN;
      let exitCode = code;
      if (gnu) {
        const text = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, "utf8") : "";
        fs.rmSync(timeFile, { force: true });
        // When the child fails, GNU time writes "Command exited with non-zero status N" first.
        const line = text.trim().split("\n").at(-1) ?? "";
        const match = /^([\d.]+) ([\d.]+) (\d+)$/.exec(line);
        if (match) {
          userMs = Number(match[1]) * 1000;
          sysMs = Number(match[2]) * 1000;
          maxRssKb = Number(match[3]);
        }
      } else {
        const last = poll.stop();
        userMs = last.userMs;
        sysMs = last.sysMs;
        maxRssKb = last.maxRssKb;
      }
      resolve({ wallMs, cpuMs: userMs + sysMs, userMs, sysMs, maxRssKb, exitCode, signal, stderr, approximate: !gnu });
    });
  });
}

/** Polls /proc/<pid> every 10 ms for CPU ticks and the RSS high-water mark (VmHWM). */
function startProcPolling(pid) {
  const ticks = 100; // USER_HZ on Linux
  const last = { userMs: NaN, sysMs: NaN, maxRssKb: NaN };
  const read = () => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      last.userMs = (Number(fields[11]) * 1000) / ticks;
      last.sysMs = (Number(fields[12]) * 1000) / ticks;
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) last.maxRssKb = Number(hwm[1]);
    } catch {
      // The process has exited between two polls.
    }
  };
  read();
  const timer = setInterval(read, 10);
  return {
    stop() {
      clearInterval(timer);
      return last;
    },
  };
}

/**
 * A reading of the machine's busy CPU time and of this process's own (itself and the children it
 * has waited for, which include every measured run), in milliseconds, from /proc; null off Linux.
 * Two readings give the CPU that other processes used in between (`otherCpuShare`), which says
 * whether the run shared the machine better than the load average can: the load average counts
 * the benchmark's own runs, which keep every core busy.
 */
export function cpuReading() {
  try {
    const ticks = 100; // USER_HZ on Linux
    const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy is everything but idle, iowait and steal.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cpu;
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const own = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    if (!cpu.length || !Number.isFinite(own)) return null;
    return { at: performance.now(), busyMs: ((user + nice + system + irq + softirq) * 1000) / ticks, ownMs: (own * 1000) / ticks };
  } catch {
    return null;
  }
}

/** The share (0-1) of all cores' time between two `cpuReading`s that other processes used. */
export function otherCpuShare(start, end, cores) {
  if (!start || !end || end.at <= start.at) return null;
  const other = end.busyMs - start.busyMs - (end.ownMs - start.ownMs);
  return Math.max(0, other) / ((end.at - start.at) * cores);
}

/** The median of a non-empty list of numbers. */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Least-squares line y = intercept + slope·x, with R². */
export function linearFit(points) {
  const n = points.length;
  if (n < 2) return { slope: NaN, intercept: NaN, r2: NaN };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}
