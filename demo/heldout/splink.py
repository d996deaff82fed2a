#!/usr/bin/env python3
"""Splink's public test data as a `--world-csv` world (docs/identity.md section 5).

  python3 demo/heldout/splink.py fake_1000.csv OUT.csv
  python3 demo/heldout/splink.py historical_figures_with_errors_50k.parquet OUT.csv   # needs pyarrow

From github.com/moj-analytical-services/splink_datasets (MIT): `fake_1000.csv` (1,000 British
records of 251 people: names cut, typed twice or swapped, birthdays a month or a day off, towns
misspelt, emails with typos) and `historical_figures_with_errors_50k.parquet` (50,578 records of
5,156 people from Wikidata with errors added: names, birthday, birth place, postcode, gender; no
identifier). `cluster` is the truth. Each record goes to one of the five systems by a CRC-32 of
its id (the data sets have no systems); a birthday that is no date, or before the year 1000
(resolution reads four-digit years), is left out; the birth place is the city.
"""
import csv
import datetime
import sys
import zlib

SYSTEMS = ['members', 'webshop', 'service', 'global_store', 'events']


def system_of(uid):
    return SYSTEMS[zlib.crc32(uid.encode()) % len(SYSTEMS)]


def date_or_blank(d):
    try:
        return d if datetime.date.fromisoformat(d).year >= 1000 else ''
    except (TypeError, ValueError):
        return ''


def fake_1000(src, out):
    w = csv.writer(out)
    w.writerow(['record_id', 'person_id', 'system', 'given_name', 'surname', 'birthday', 'city', 'country', 'email'])
    for r in csv.DictReader(open(src, newline='', encoding='utf-8')):
        w.writerow(['r' + r['unique_id'], 'p' + r['cluster'], system_of(r['unique_id']), r['first_name'], r['surname'],
                    date_or_blank(r['dob']), r['city'], 'GB', r['email']])


def historical(src, out):
    import pyarrow.parquet as pq  # pip install pyarrow
    w = csv.writer(out)
    w.writerow(['record_id', 'person_id', 'system', 'given_name', 'surname', 'birthday', 'gender', 'city', 'country', 'postcode'])
    for r in pq.read_table(src).to_pylist():
        gender = {'male': 'M', 'female': 'F'}.get(r['gender'] or '', '')
        w.writerow([r['unique_id'], r['cluster'], system_of(r['unique_id']), r['first_name'] or '', r['surname'] or '',
                    date_or_blank(r['dob'] or ''), gender, r['birth_place'] or '', 'GB', (r['postcode_fake'] or '').upper()])


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    with open(dst, 'w', newline='', encoding='utf-8') as out:
        (historical if src.endswith('.parquet') else fake_1000)(src, out)
