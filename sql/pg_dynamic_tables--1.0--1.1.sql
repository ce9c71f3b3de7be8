/*
 * pg_dynamic_tables 1.0 -> 1.1
 *
 * CREATE EXTENSION runs pg_dynamic_tables--1.0.sql and then this script, so
 * a new installation and an updated one end with the same objects.
 */
\echo Use "ALTER EXTENSION pg_dynamic_tables UPDATE TO '1.1'" to load this file. \quit
