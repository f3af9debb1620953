"""Bulk enrolment from a CSV or .xlsx file: reading the bytes (csv_reader, xlsx_reader),
what each column means (importer), the console's import as a worker's job (jobs).
"""
