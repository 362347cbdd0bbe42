"""The database: tables, ingestion of evaluators' files, and the queries that feed metrics/.

The only package that speaks SQL.
"""
