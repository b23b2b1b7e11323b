//! The standard `process_*` metrics, read from `/proc/self` at each scrape (Linux; elsewhere
//! they stay 0).
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

pub struct ProcessGauges {
    /// A counter, moved on by the CPU time used since the last scrape (`cpu_seen`).
    cpu_seconds: Counter<f64, AtomicU64>,
    cpu_seen: std::sync::Mutex<f64>,
    resident_bytes: Gauge,
    virtual_bytes: Gauge,
    open_fds: Gauge,
    threads: Gauge,
    start_time: Gauge<f64, AtomicU64>,
}

impl ProcessGauges {
    pub fn register(registry: &mut Registry) -> Self {
        let gauges = ProcessGauges {
            cpu_seconds: Counter::default(),
            cpu_seen: std::sync::Mutex::new(0.0),
            resident_bytes: Gauge::default(),
            virtual_bytes: Gauge::default(),
            open_fds: Gauge::default(),
            threads: Gauge::default(),
            start_time: Gauge::default(),
        };
        let process = registry.sub_registry_with_prefix("process");
        process.register_with_unit(
            "cpu",
            "User and system CPU time spent",
            Unit::Seconds,
            gauges.cpu_seconds.clone(),
        );
        process.register_with_unit(
            "resident_memory",
            "Resident memory size",
            Unit::Bytes,
            gauges.resident_bytes.clone(),
        );
        process.register_with_unit(
            "virtual_memory",
            "Virtual memory size",
            Unit::Bytes,
            gauges.virtual_bytes.clone(),
        );
        process.register("open_fds", "Open file descriptors", gauges.open_fds.clone());
        process.register("threads", "OS threads", gauges.threads.clone());
        process.register_with_unit(
            "start_time",
            "Start time of the process since the Unix epoch",
            Unit::Seconds,
            gauges.start_time.clone(),
        );
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        gauges.start_time.set(started.as_secs_f64());
        gauges
    }

    /// Reads the current figures; missing files leave the gauges as they were.
    pub fn refresh(&self) {
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command name (which may hold spaces) in parentheses.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            let field = |n: usize| fields.get(n).and_then(|v| v.parse::<u64>().ok());
            // Field n of the line is at n - 3 here: utime 14, stime 15, threads 20, vsize 23.
            if let (Some(user), Some(system)) = (field(11), field(12)) {
                let total = (user + system) as f64 / TICKS_PER_SECOND;
                let mut seen = self.cpu_seen.lock().unwrap_or_else(|e| e.into_inner());
                if total > *seen {
                    self.cpu_seconds.inc_by(total - *seen);
                    *seen = total;
                }
            }
            if let Some(threads) = field(17) {
                self.threads.set(threads as i64);
            }
            if let Some(vsize) = field(20) {
                self.virtual_bytes.set(vsize as i64);
            }
        }
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let rss_kib = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok());
            if let Some(kib) = rss_kib {
                self.resident_bytes.set(kib * 1024);
            }
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(fds.count() as i64);
        }
    }
}
