--
-- PostgreSQL database dump
--

\restrict gsHJZZuPiq7owaZVkfwTbsufQuRusYjX2zo5a8PQ1XVTdMrdmHX30zFBWufI27G

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

-- Started on 2026-12-06 22:22:16 UTC

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- TOC entry 2 (class 3079 OID 16388)
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
-- Data Pos: 0
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;


--
-- TOC entry 3471 (class 0 OID 0)
-- Dependencies: 2
-- Name: EXTENSION citext; Type: COMMENT; Schema: -; Owner: 
-- Data Pos: 0
--

COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';


--
-- TOC entry 891 (class 1247 OID 16494)
-- Name: mood; Type: TYPE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TYPE public.mood AS ENUM (
    'sad',
    'ok',
    'happy'
);


ALTER TYPE public.mood OWNER TO postgres;

--
-- TOC entry 894 (class 1247 OID 16502)
-- Name: year; Type: DOMAIN; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE DOMAIN public.year AS integer
	CONSTRAINT year_check CHECK ((VALUE > 1900));


ALTER DOMAIN public.year OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- TOC entry 216 (class 1259 OID 16505)
-- Dependencies: 891 2 2 2 2 2 894
-- Name: t; Type: TABLE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE public.t (
    id integer NOT NULL,
    y public.year,
    m public.mood,
    c public.citext
);


ALTER TABLE public.t OWNER TO postgres;

--
-- TOC entry 217 (class 1259 OID 16515)
-- Dependencies: 216
-- Name: mv; Type: MATERIALIZED VIEW; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE MATERIALIZED VIEW public.mv AS
 SELECT t.id
   FROM public.t
  WITH NO DATA;


ALTER TABLE public.mv OWNER TO postgres;

--
-- TOC entry 219 (class 1259 OID 16523)
-- Name: parts; Type: TABLE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE public.parts (
    id integer,
    k integer
)
PARTITION BY RANGE (k);


ALTER TABLE public.parts OWNER TO postgres;

--
-- TOC entry 220 (class 1259 OID 16526)
-- Dependencies: 219
-- Name: parts_1; Type: TABLE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE TABLE public.parts_1 (
    id integer,
    k integer
);


ALTER TABLE public.parts_1 OWNER TO postgres;

--
-- TOC entry 215 (class 1259 OID 16504)
-- Dependencies: 216
-- Name: t_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE SEQUENCE public.t_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.t_id_seq OWNER TO postgres;

--
-- TOC entry 3473 (class 0 OID 0)
-- Dependencies: 215
-- Name: t_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
-- Data Pos: 0
--

ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;


--
-- TOC entry 218 (class 1259 OID 16519)
-- Dependencies: 217
-- Name: v; Type: VIEW; Schema: public; Owner: postgres
-- Data Pos: 0
--

CREATE VIEW public.v AS
 SELECT mv.id
   FROM public.mv;


ALTER TABLE public.v OWNER TO postgres;

--
-- TOC entry 3311 (class 0 OID 0)
-- Dependencies: 220 219
-- Name: parts_1; Type: TABLE ATTACH; Schema: public; Owner: postgres
-- Data Pos: 0
--

ALTER TABLE ONLY public.parts ATTACH PARTITION public.parts_1 FOR VALUES FROM (0) TO (10);


--
-- TOC entry 3312 (class 2604 OID 16508)
-- Dependencies: 215 216 216
-- Name: t id; Type: DEFAULT; Schema: public; Owner: postgres
-- Data Pos: 0
--

ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass);


--
-- TOC entry 3472 (class 0 OID 0)
-- Dependencies: 216
-- Name: TABLE t; Type: ACL; Schema: public; Owner: postgres
-- Data Pos: 0
--

GRANT SELECT ON TABLE public.t TO PUBLIC;


-- Completed on 2026-12-06 22:41:25 UTC

--
-- PostgreSQL database dump complete
--

\unrestrict gsHJZZuPiq7owaZVkfwTbsufQuRusYjX2zo5a8PQ1XVTdMrdmHX30zFBWufI27G

