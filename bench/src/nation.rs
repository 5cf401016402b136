//! A synthetic nation, built straight into a running platform's PostgreSQL databases with
//! COPY: the unit tree as it stood before the 2025 reorganisation (the centre; 63 provincial
//! unions and 4 blocs; about 700 district unions; about 10,000 commune unions plus schools,
//! enterprises and agencies; branches under each; sizes uneven), members with Vietnamese
//! names, ages 16 to 30, statuses and admissions spread over years, their personal fields
//! encrypted and indexed with the platform's key, the live counters and subtree totals exactly
//! as the services keep them, and the directories of activities, awards and notifications.
//! Deterministic from a seed.
//!
//! Then, through the gateway: statistics of units at every level, the first and later pages of
//! ListMembers at the root, a province and a district, name search in the largest province,
//! and a part of the 2025 plan (6 provincial unions merged into 3, their district unions
//! dissolved with their grassroots units re-attached to the province, communes merged in
//! pairs) applied while statistics keep being read.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{Datelike, Days, Months, NaiveDate};
use doan_membership::domain::member::{MemberStatus, member_number, name_key};
use doan_membership::domain::stats::{self, MemberFacts};
use doan_platform::crypto::FieldCipher;
use doan_proto::membership as mem;
use doan_tests::client::{Gateway, authed};
use doan_tests::{ADMIN_PASSWORD, TestPlatform};
use sea_orm::ConnectionTrait;
use secrecy::ExposeSecret;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio_stream::StreamExt;

use crate::stats::{Table, f};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Picks from `(item, weight)`.
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut n = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if n < *w {
                return item;
            }
            n -= w;
        }
        &items[0].0
    }

    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }
}

const SURNAMES: [(&str, u32); 16] = [
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 30),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 25),
    ("Võ", 14),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
];
const MIDDLE_MALE: [&str; 8] = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công", "Xuân"];
const MIDDLE_FEMALE: [&str; 8] = ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Kim"];
const GIVEN_MALE: [&str; 24] = [
    "An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khang", "Khánh", "Long",
    "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Thắng", "Trung", "Tuấn",
];
const GIVEN_FEMALE: [&str; 24] = [
    "Anh", "Châu", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hạnh", "Hiền", "Hoa", "Hương", "Huyền", "Lan", "Linh", "Mai",
    "My", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Trang", "Yến",
];
const ETHNICITIES: [(&str, u32); 12] = [
    ("Kinh", 853),
    ("Tày", 19),
    ("Thái", 18),
    ("Mường", 15),
    ("Khmer", 14),
    ("H'Mông", 14),
    ("Nùng", 11),
    ("Hoa", 8),
    ("Dao", 9),
    ("Gia Rai", 5),
    ("Ê Đê", 4),
    ("Ba Na", 3),
];
const RELIGIONS: [(&str, u32); 5] =
    [("", 860), ("Công giáo", 60), ("Phật giáo", 50), ("Tin Lành", 15), ("Cao Đài", 15)];
const PROVINCES: [&str; 63] = [
    "Hà Nội",
    "TP. Hồ Chí Minh",
    "Hải Phòng",
    "Đà Nẵng",
    "Cần Thơ",
    "An Giang",
    "Bà Rịa - Vũng Tàu",
    "Bắc Giang",
    "Bắc Kạn",
    "Bạc Liêu",
    "Bắc Ninh",
    "Bến Tre",
    "Bình Định",
    "Bình Dương",
    "Bình Phước",
    "Bình Thuận",
    "Cà Mau",
    "Cao Bằng",
    "Đắk Lắk",
    "Đắk Nông",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Giang",
    "Hà Nam",
    "Hà Tĩnh",
    "Hải Dương",
    "Hậu Giang",
    "Hòa Bình",
    "Hưng Yên",
    "Khánh Hòa",
    "Kiên Giang",
    "Kon Tum",
    "Lai Châu",
    "Lâm Đồng",
    "Lạng Sơn",
    "Lào Cai",
    "Long An",
    "Nam Định",
    "Nghệ An",
    "Ninh Bình",
    "Ninh Thuận",
    "Phú Thọ",
    "Phú Yên",
    "Quảng Bình",
    "Quảng Nam",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sóc Trăng",
    "Sơn La",
    "Tây Ninh",
    "Thái Bình",
    "Thái Nguyên",
    "Thanh Hóa",
    "Thừa Thiên Huế",
    "Tiền Giang",
    "Trà Vinh",
    "Tuyên Quang",
    "Vĩnh Long",
    "Vĩnh Phúc",
    "Yên Bái",
];
const BLOCS: [&str; 4] = [
    "Đoàn Khối các cơ quan Trung ương",
    "Đoàn Khối Doanh nghiệp Trung ương",
    "Đoàn Thanh niên Bộ Công an",
    "Đoàn Thanh niên Quân đội",
];

/// A unit of the generated tree.
struct Unit {
    id: String,
    parent: Option<usize>,
    name: String,
    level: i32,
    path: String,
}

/// A generated member as the directories hold it.
struct Member {
    seq: i64,
    id: String,
    name: String,
    unit: u32,
    status: i32,
}

/// The generated nation (kept for the queries and the reorganisation).
pub struct Nation {
    units: Vec<Unit>,
    members: u64,
    /// Members per unit's subtree.
    sizes: Vec<u64>,
}

fn level_of(l: mem::UnitLevel) -> i32 {
    l as i32
}

/// The tree: sizes drawn so that `members` members fill about `members / 60` branches.
fn tree(rng: &mut Rng, members: u64) -> (Vec<Unit>, Vec<(usize, u64)>) {
    use mem::UnitLevel::*;
    let mut units: Vec<Unit> = Vec::new();
    let add = |units: &mut Vec<Unit>, rng: &mut Rng, parent: Option<usize>, name: String, level: mem::UnitLevel| {
        let id = rng.uuid();
        let path = match parent {
            Some(p) => format!("{}{id}/", units[p].path),
            None => format!("/{id}/"),
        };
        units.push(Unit { id, parent, name, level: level_of(level), path });
        units.len() - 1
    };
    let root = add(&mut units, rng, None, "Trung ương Đoàn".into(), Central);
    // Provincial weights: the two big cities several times a typical province.
    let mut provincial: Vec<(usize, u64)> = Vec::new();
    for (i, name) in PROVINCES.iter().enumerate() {
        let weight = match i {
            0 | 1 => 700,
            2..=4 => 180,
            _ => rng.between(60, 160),
        };
        let p = add(&mut units, rng, Some(root), format!("Tỉnh đoàn {name}"), Provincial);
        provincial.push((p, weight));
    }
    for name in BLOCS {
        let p = add(&mut units, rng, Some(root), name.to_string(), Provincial);
        provincial.push((p, 40));
    }
    let total_weight: u64 = provincial.iter().map(|(_, w)| w).sum();
    let per_branch = 60u64;
    let mut branches: Vec<(usize, u64)> = Vec::new();
    for (p, weight) in provincial {
        let quota = members * weight / total_weight;
        let is_bloc = units[p].name.starts_with("Đoàn");
        let districts = if is_bloc { rng.between(4, 8) } else { (weight / 14).clamp(7, 30) + rng.below(4) };
        let mut left = quota;
        for d in 0..districts {
            let name = if is_bloc {
                format!("Đoàn cơ sở trực thuộc số {}", d + 1)
            } else {
                format!("Huyện đoàn số {}", d + 1)
            };
            let district = add(&mut units, rng, Some(p), name, District);
            let share = if d + 1 == districts { left } else { (quota / districts).min(left) };
            left -= share;
            // Grassroots: communes (about 14 a district) and schools, enterprises and agencies.
            let grassroots = (share / (per_branch * 6)).max(2);
            let mut g_left = share;
            for g in 0..grassroots {
                let kind = match g % 7 {
                    0..=3 => "Đoàn xã",
                    4 => "Đoàn trường THPT",
                    5 => "Đoàn Công ty",
                    _ => "Đoàn cơ quan",
                };
                let g_unit = add(&mut units, rng, Some(district), format!("{kind} số {}", g + 1), Grassroots);
                let g_share = if g + 1 == grassroots { g_left } else { (share / grassroots).min(g_left) };
                g_left -= g_share;
                let count = (g_share / per_branch).clamp(1, 40);
                let mut b_left = g_share;
                for b in 0..count {
                    // Uneven branches: a third to twice the average.
                    let avg = g_share / count;
                    let size = if b + 1 == count { b_left } else { (avg / 3 + rng.below(avg * 5 / 3 + 1)).min(b_left) };
                    b_left -= size;
                    let branch = add(&mut units, rng, Some(g_unit), format!("Chi đoàn {}", b + 1), Branch);
                    branches.push((branch, size));
                }
            }
        }
    }
    (units, branches)
}

/// Builds the nation in `tp`'s databases; returns it and the build's table rows.
pub async fn build(tp: &TestPlatform, members: u64, seed: u64, table: &mut Table) -> anyhow::Result<Nation> {
    let started = Instant::now();
    let mut rng = Rng(seed.max(1));
    let (units, branches) = tree(&mut rng, members);
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let key = tp.settings.pii.encryption_key.as_ref().expect("an encryption key").expose_secret().to_string();
    let cipher = FieldCipher::from_base64(&key)?;
    let url = |service: &str| {
        tp.settings.service(service).map(|s| s.database_url.expose_secret().to_string()).unwrap_or_default()
    };
    let membership_url = url("membership");

    // Units.
    let mut conn = PgConnection::connect(&membership_url).await?;
    let mut copy = conn
        .copy_in_raw(
            "COPY units (unit_id, parent_id, name, level, path, created_at, is_root, status, version) FROM STDIN",
        )
        .await?;
    let mut buf = String::new();
    for u in &units {
        let parent = u.parent.map_or("\\N".to_string(), |p| units[p].id.clone());
        let root = if u.parent.is_none() { "t" } else { "\\N" };
        buf.push_str(&format!(
            "{}\t{parent}\t{}\t{}\t{}\t2020-01-01T00:00:00Z\t{root}\t1\t1\n",
            u.id, u.name, u.level, u.path
        ));
    }
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    let units_done = started.elapsed();

    // Members, in chunks, with their counters; secondary indexes are dropped first and built
    // again after (faster than maintaining them row by row).
    let member_indexes = drop_indexes(&mut conn, "members").await?;
    let mut own: HashMap<usize, BTreeMap<(&'static str, String), i64>> = HashMap::new();
    let mut directory: Vec<Member> = Vec::with_capacity(members as usize);
    let mut copy = conn
        .copy_in_raw(
            "COPY members (seq, member_id, full_name, date_of_birth, sex, ethnicity_enc, religion_enc, citizen_id_enc, \
             citizen_id_index, phone_enc, email, unit_id, unit_path, admitted_on, resolution_number, status, \
             guardian_consent, admitted_by, created_at, admission_rule, status_changed_on, name_key, phone_index, version) \
             FROM STDIN",
        )
        .await?;
    let mut seq = 0i64;
    let mut buf = String::with_capacity(8 << 20);
    for &(branch, size) in &branches {
        let u = &units[branch];
        for _ in 0..size {
            seq += 1;
            let male = rng.below(2) == 0;
            let surname = rng.weighted(&SURNAMES);
            let (middle, given) = if male {
                (MIDDLE_MALE[rng.below(8) as usize], GIVEN_MALE[rng.below(24) as usize])
            } else {
                (MIDDLE_FEMALE[rng.below(8) as usize], GIVEN_FEMALE[rng.below(24) as usize])
            };
            let name = format!("{surname} {middle} {given}");
            let age_days = rng.between(16 * 366, 30 * 365);
            let born = today - Days::new(age_days);
            let earliest = (born.checked_add_months(Months::new(15 * 12)).unwrap_or(born) + Days::new(1))
                .max(NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or(born));
            let span = (today - earliest).num_days().max(0) as u64;
            let admitted = earliest + Days::new(rng.below(span + 1));
            let status = *rng.weighted(&[
                (MemberStatus::Active, 930),
                (MemberStatus::AgedOut, 30),
                (MemberStatus::TransferredOut, 20),
                (MemberStatus::Removed, 15),
                (MemberStatus::Expelled, 5),
            ]);
            let changed = if status == MemberStatus::Active {
                admitted
            } else {
                admitted + Days::new(rng.below((today - admitted).num_days().max(0) as u64 + 1))
            };
            let ethnicity = *rng.weighted(&ETHNICITIES);
            let religion = *rng.weighted(&RELIGIONS);
            // A province code, then nine digits unique to the member (7,919 is prime to 10^9).
            let citizen_id = format!("{:03}{:09}", 1 + rng.below(96), (seq as u64 * 7919) % 1_000_000_000);
            let phone = format!("09{:08}", rng.below(100_000_000));
            let id = rng.uuid();
            // Each value sealed to its own row and column, as the service seals them.
            let seal = |column: &'static str, v: &str| {
                cipher.seal(&doan_platform::crypto::Field::new("members", column, id.as_str()), v)
            };
            buf.push_str(&format!(
                "{seq}\t{id}\t{name}\t{born}\t{sex}\t{eth}\t{rel}\t{cid_enc}\t{cid_index}\t{phone_enc}\t\t{unit}\t{path}\t{admitted}\t{res}-NQ/ĐTN\t{status}\tf\tnation\t2026-01-01T00:00:00Z\tcharter-12\t{changed}\t{key}\t{phone_index}\t1\n",
                sex = if male { 1 } else { 2 },
                eth = seal("ethnicity_enc", ethnicity),
                rel = seal("religion_enc", religion),
                cid_enc = seal("citizen_id_enc", &citizen_id),
                cid_index = cipher.blind_index(&citizen_id),
                phone_enc = seal("phone_enc", &phone),
                unit = u.id,
                path = u.path,
                res = 1 + rng.below(99),
                status = status as i32,
                key = name_key(&name),
                phone_index = cipher.blind_index(&phone),
            ));
            let facts = MemberFacts {
                status,
                sex: if male { 1 } else { 2 },
                birth_year: born.year(),
                kinh: stats::is_kinh(ethnicity),
            };
            let counters = own.entry(branch).or_default();
            let mut changes = stats::diff(None, Some(&facts));
            changes.push(stats::flow("admitted", admitted));
            if let Some(metric) = stats::status_flow(status) {
                changes.push(stats::flow(metric, changed));
            }
            for (counter, delta) in changes {
                *counters.entry(counter).or_default() += delta;
            }
            directory.push(Member { seq, id, name, unit: branch as u32, status: status as i32 });
            if buf.len() > 4 << 20 {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
    }
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    let members_done = started.elapsed();

    // Counters: each branch's own, and the totals of every subtree.
    let mut subtree: HashMap<usize, BTreeMap<(&'static str, String), i64>> = HashMap::new();
    let mut sizes = vec![0u64; units.len()];
    let mut own_rows = String::new();
    for (&branch, counters) in &own {
        let active: i64 = counters.get(&("status", "1".to_string())).copied().unwrap_or(0);
        let mut at = Some(branch);
        while let Some(u) = at {
            let totals = subtree.entry(u).or_default();
            for (k, v) in counters {
                *totals.entry(k.clone()).or_default() += v;
            }
            sizes[u] += active as u64;
            at = units[u].parent;
        }
        for ((metric, key), count) in counters {
            own_rows.push_str(&format!("{}\t{metric}\t{key}\t0\t{count}\n", units[branch].id));
        }
    }
    let mut subtree_rows = String::new();
    for (u, totals) in &subtree {
        for ((metric, key), count) in totals {
            subtree_rows.push_str(&format!("{}\t{metric}\t{key}\t0\t{count}\n", units[*u].id));
        }
    }
    for (table_name, rows) in [("unit_counters", own_rows), ("subtree_counters", subtree_rows)] {
        let mut copy =
            conn.copy_in_raw(&format!("COPY {table_name} (unit_id, metric, key, shard, count) FROM STDIN")).await?;
        copy.send(rows.as_bytes()).await?;
        copy.finish().await?;
    }
    recreate_indexes(&mut conn, &member_indexes).await?;
    sqlx::query("SELECT setval(pg_get_serial_sequence('members', 'seq'), $1)").bind(seq).execute(&mut conn).await?;
    sqlx::raw_sql("ANALYZE units; ANALYZE members; ANALYZE unit_counters; ANALYZE subtree_counters")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let counters_done = started.elapsed();

    // The directories of the three other services.
    for service in ["activities", "awards", "notifications"] {
        let mut conn = PgConnection::connect(&url(service)).await?;
        let mut copy = conn
            .copy_in_raw(
                "COPY directory_units (unit_id, parent_id, name, level, path, version, status, merged_into) FROM STDIN",
            )
            .await?;
        let mut buf = String::new();
        for u in &units {
            let parent = u.parent.map_or(String::new(), |p| units[p].id.clone());
            buf.push_str(&format!("{}\t{parent}\t{}\t{}\t{}\t1\t1\t\n", u.id, u.name, u.level, u.path));
        }
        copy.send(buf.as_bytes()).await?;
        copy.finish().await?;
        let indexes = drop_indexes(&mut conn, "directory_members").await?;
        let mut copy = conn
            .copy_in_raw(
                "COPY directory_members (member_id, member_number, full_name, unit_id, unit_path, version, status) FROM STDIN",
            )
            .await?;
        let mut buf = String::with_capacity(8 << 20);
        for m in &directory {
            let u = &units[m.unit as usize];
            buf.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t1\t{}\n",
                m.id,
                member_number(m.seq),
                m.name,
                u.id,
                u.path,
                m.status
            ));
            if buf.len() > 4 << 20 {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
        copy.send(buf.as_bytes()).await?;
        copy.finish().await?;
        recreate_indexes(&mut conn, &indexes).await?;
        sqlx::raw_sql("ANALYZE directory_units; ANALYZE directory_members").execute(&mut conn).await?;
        conn.close().await?;
    }
    let all_done = started.elapsed();
    let count = |level: mem::UnitLevel| units.iter().filter(|u| u.level == level as i32).count();
    eprintln!(
        "nation: {} units ({} provincial, {} district, {} grassroots, {} branches), {seq} members in {:.0} s",
        units.len(),
        count(mem::UnitLevel::Provincial),
        count(mem::UnitLevel::District),
        count(mem::UnitLevel::Grassroots),
        count(mem::UnitLevel::Branch),
        all_done.as_secs_f64()
    );
    let secs = |d: Duration| f(d.as_secs_f64(), 1);
    table.row(vec!["units (COPY)".into(), units.len().to_string(), secs(units_done), "—".into()]);
    table.row(vec![
        "members: generated, encrypted, indexed (COPY)".into(),
        seq.to_string(),
        secs(members_done - units_done),
        f(seq as f64 / (members_done - units_done).as_secs_f64(), 0),
    ]);
    table.row(vec!["counters and subtree totals".into(), "—".into(), secs(counters_done - members_done), "—".into()]);
    table.row(vec![
        "directories of activities, awards, notifications".into(),
        (3 * seq).to_string(),
        secs(all_done - counters_done),
        f(3.0 * seq as f64 / (all_done - counters_done).as_secs_f64(), 0),
    ]);
    table.row(vec!["whole nation".into(), seq.to_string(), secs(all_done), "—".into()]);
    drop(directory);
    Ok(Nation { units, members: seq as u64, sizes })
}

/// Drops the secondary indexes of `table` (not its primary key or unique constraints),
/// returning their definitions.
async fn drop_indexes(conn: &mut PgConnection, table: &str) -> anyhow::Result<Vec<String>> {
    let defs: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indexname::text, i.indexdef FROM pg_indexes i WHERE i.tablename = $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &defs {
        // Names and definitions come from the catalogue, not from input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP INDEX {name}"))).execute(&mut *conn).await?;
    }
    Ok(defs.into_iter().map(|(_, def)| def).collect())
}

/// Builds the indexes `drop_indexes` dropped.
async fn recreate_indexes(conn: &mut PgConnection, defs: &[String]) -> anyhow::Result<()> {
    sqlx::raw_sql("SET maintenance_work_mem = '1GB'").execute(&mut *conn).await?;
    for def in defs {
        sqlx::raw_sql(sqlx::AssertSqlSafe(def.clone())).execute(&mut *conn).await?;
    }
    Ok(())
}

/// p50/p95/p99 in ms of the calls `call` makes for each of `args`, `rounds` times.
async fn latencies<A: Clone, F, Fut>(args: &[A], rounds: usize, mut call: F) -> anyhow::Result<Vec<f64>>
where
    F: FnMut(A) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut ms = Vec::new();
    for _ in 0..rounds {
        for a in args {
            let started = Instant::now();
            call(a.clone()).await?;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    Ok(ms)
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn latency_row(table: &mut Table, what: &str, calls: &[f64]) {
    table.row(vec![
        what.into(),
        calls.len().to_string(),
        f(pct(calls, 0.5), 1),
        f(pct(calls, 0.95), 1),
        f(pct(calls, 0.99), 1),
    ]);
}

/// The national queries through the gateway, as the administrator (whose scope is the root).
pub async fn queries(tp: &TestPlatform, nation: &Nation, table: &mut Table) -> anyhow::Result<()> {
    let gw = Gateway::connect(tp.platform.gateway_addr).await?;
    let admin = gw.login("admin", ADMIN_PASSWORD).await?;
    let at_level = |level: mem::UnitLevel, n: usize| -> Vec<String> {
        let all: Vec<&Unit> = nation.units.iter().filter(|u| u.level == level as i32).collect();
        let step = (all.len() / n).max(1);
        all.iter().step_by(step).take(n).map(|u| u.id.clone()).collect()
    };
    use mem::UnitLevel::*;
    for (label, level, n) in [
        ("GetUnitStatistics: the root", Central, 1),
        ("GetUnitStatistics: provincial unions", Provincial, 20),
        ("GetUnitStatistics: district unions", District, 40),
        ("GetUnitStatistics: grassroots units", Grassroots, 40),
        ("GetUnitStatistics: branches", Branch, 40),
    ] {
        let units = at_level(level, n);
        let rounds = if n == 1 { 40 } else { 2 };
        let calls = latencies(&units, rounds, |unit_id| {
            let mut m = gw.membership.clone();
            let req = authed(&admin, mem::GetUnitStatisticsRequest { unit_id, ..Default::default() });
            async move { m.get_unit_statistics(req).await.map(|_| ()).map_err(anyhow::Error::from) }
        })
        .await?;
        latency_row(table, label, &calls);
    }
    // ListMembers: the first page and the 20 pages after it, at the root, the largest
    // province and a district.
    let largest_province = nation
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.level == Provincial as i32)
        .max_by_key(|(i, _)| nation.sizes[*i])
        .map(|(i, _)| i)
        .unwrap_or(0);
    let a_district = nation.units.iter().position(|u| u.level == District as i32).unwrap_or(0);
    for (label, unit) in [
        ("ListMembers (50 a page): the root, pages 1–20", 0),
        ("ListMembers: the largest province, pages 1–20", largest_province),
        ("ListMembers: a district union, pages 1–20", a_district),
    ] {
        let unit_id = nation.units[unit].id.clone();
        let mut calls = Vec::new();
        for _ in 0..3 {
            let mut token = String::new();
            for _ in 0..20 {
                let started = Instant::now();
                let page = gw
                    .membership
                    .clone()
                    .list_members(authed(
                        &admin,
                        mem::ListMembersRequest { unit_id: unit_id.clone(), page_size: 50, page_token: token.clone() },
                    ))
                    .await?
                    .into_inner();
                calls.push(started.elapsed().as_secs_f64() * 1000.0);
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
            }
        }
        calls.sort_by(|a, b| a.total_cmp(b));
        latency_row(table, label, &calls);
    }
    // Name search in the largest province.
    let names: Vec<String> =
        ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Minh", "Phạm Thu Hà", "Hoàng Đức Anh", "Vũ Ngọc Mai"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let province_id = nation.units[largest_province].id.clone();
    let calls = latencies(&names, 5, |name| {
        let mut m = gw.membership.clone();
        let req = authed(
            &admin,
            mem::SearchMembersRequest { unit_id: province_id.clone(), name, page_size: 50, ..Default::default() },
        );
        async move { m.search_members(req).await.map(|_| ()).map_err(anyhow::Error::from) }
    })
    .await?;
    latency_row(
        table,
        &format!("SearchMembers by name in the largest province ({} active members)", nation.sizes[largest_province]),
        &calls,
    );
    Ok(())
}

/// Part of the 2025 plan: 6 provincial unions merged into 3, their district unions dissolved
/// and their grassroots units re-attached to the merged province, their communes merged in
/// pairs; statistics read all along. Returns the table rows.
pub async fn reorganise(tp: &TestPlatform, nation: &Nation, table: &mut Table) -> anyhow::Result<()> {
    use mem::ReorganisationStepKind as K;
    use mem::UnitLevel::*;
    let gw = Gateway::connect(tp.platform.gateway_addr).await?;
    let admin = gw.login("admin", ADMIN_PASSWORD).await?;
    let children = |p: usize| -> Vec<usize> {
        nation.units.iter().enumerate().filter(|(_, u)| u.parent == Some(p)).map(|(i, _)| i).collect()
    };
    // Six typical provinces (not the two big cities): Hà Giang + Tuyên Quang, … as in 2025.
    let provinces: Vec<usize> = nation
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.level == Provincial as i32)
        .map(|(i, _)| i)
        .skip(20)
        .take(6)
        .collect();
    let step = |kind: K, unit: usize, target: Option<usize>| mem::ReorganisationStep {
        kind: kind as i32,
        unit_id: nation.units[unit].id.clone(),
        target_unit_id: target.map(|t| nation.units[t].id.clone()).unwrap_or_default(),
        ..Default::default()
    };
    let mut steps = Vec::new();
    let mut moved_members = 0u64;
    for pair in provinces.chunks(2) {
        let (keep, merged) = (pair[0], pair[1]);
        steps.push(step(K::Merge, merged, Some(keep)));
        for p in pair {
            for district in children(*p) {
                let grassroots = children(district);
                let communes: Vec<usize> =
                    grassroots.iter().copied().filter(|g| nation.units[*g].name.starts_with("Đoàn xã")).collect();
                for g in &grassroots {
                    steps.push(step(K::Move, *g, Some(keep)));
                    moved_members += nation.sizes[*g];
                }
                for two in communes.chunks(2) {
                    if let [a, b] = two {
                        steps.push(step(K::Merge, *b, Some(*a)));
                    }
                }
                steps.push(step(K::Dissolve, district, None));
            }
        }
    }
    let effective_on = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive().format("%Y-%m-%d").to_string();
    let plan = gw
        .membership
        .clone()
        .create_reorganisation_plan(authed(
            &admin,
            mem::CreateReorganisationPlanRequest {
                unit_id: nation.units[0].id.clone(),
                title: "Sắp xếp tổ chức Đoàn 2025 (thử nghiệm quy mô toàn quốc)".into(),
                effective_on,
                steps: steps.clone(),
            },
        ))
        .await?
        .into_inner()
        .plan
        .expect("plan")
        .plan_id;
    let started = Instant::now();
    gw.membership
        .clone()
        .apply_reorganisation_plan(authed(&admin, mem::ApplyReorganisationPlanRequest { plan_id: plan.clone() }))
        .await?;
    // Statistics of the merging provinces and the root, read while the plan applies.
    let applying = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = {
        let gw = gw.clone();
        let admin = admin.clone();
        let applying = applying.clone();
        let units: Vec<String> =
            provinces.iter().map(|p| nation.units[*p].id.clone()).chain([nation.units[0].id.clone()]).collect();
        tokio::spawn(async move {
            let mut ms = Vec::new();
            let mut errors = 0;
            while applying.load(std::sync::atomic::Ordering::Relaxed) {
                for unit_id in &units {
                    let started = Instant::now();
                    let request = mem::GetUnitStatisticsRequest { unit_id: unit_id.clone(), ..Default::default() };
                    match gw.membership.clone().get_unit_statistics(authed(&admin, request)).await {
                        Ok(_) => ms.push(started.elapsed().as_secs_f64() * 1000.0),
                        Err(_) => errors += 1,
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            (ms, errors)
        })
    };
    let mut watch = gw
        .membership
        .clone()
        .watch_reorganisation_plan(authed(&admin, mem::WatchReorganisationPlanRequest { plan_id: plan.clone() }))
        .await?
        .into_inner();
    let mut last = None;
    while let Some(update) = watch.next().await {
        let p = update?.plan.expect("plan");
        let ended =
            p.state == mem::ReorganisationState::Done as i32 || p.state == mem::ReorganisationState::Failed as i32;
        last = Some(p);
        if ended {
            break;
        }
    }
    let took = started.elapsed();
    applying.store(false, std::sync::atomic::Ordering::Relaxed);
    let (mut ms, errors) = reader.await.unwrap_or_default();
    let last = last.expect("a plan update");
    anyhow::ensure!(last.state == mem::ReorganisationState::Done as i32, "the plan ended {:?}", last.progress);
    let members_done = last.progress.as_ref().map_or(0, |p| p.members_done);
    ms.sort_by(|a, b| a.total_cmp(b));
    table.row(vec![
        format!(
            "{} steps (3 province merges, {} moves, commune merges, district dissolutions), {} member paths",
            steps.len(),
            steps.iter().filter(|s| s.kind == K::Move as i32).count(),
            members_done
        ),
        f(took.as_secs_f64(), 1),
        f(members_done as f64 / took.as_secs_f64(), 0),
        format!(
            "{} reads: p50 {} / p95 {} / p99 {} ms, {errors} errors",
            ms.len(),
            f(pct(&ms, 0.5), 1),
            f(pct(&ms, 0.95), 1),
            f(pct(&ms, 0.99), 1)
        ),
    ]);
    let _ = (moved_members, nation.members);
    // The merged provinces' totals are the sum of the pairs.
    let db = tp.database("membership").await?;
    db.execute_unprepared("ANALYZE members").await?;
    Ok(())
}
