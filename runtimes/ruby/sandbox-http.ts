/**
 * `Sandbox::HTTP`, the Ruby guest's HTTP binding, as Ruby source evaluated once in the snapshot
 * interpreter (wasm.ts), after the bootstrap: every execution starts with it defined and `json`
 * loaded, at no per-run cost. It talks to the host through the HTTP host-call device
 * (wasm/host/http-device.ts, frame format in wasm/host/http-frame.ts) with plain File IO.
 *
 *   r = Sandbox::HTTP.get("https://api.example.com/items", headers: { "Accept" => "application/json" })
 *   r.status; r.reason; r["content-type"]; r.headers; r.body (binary); r.json; r.redirected?
 *   Sandbox::HTTP.post(url, "payload", headers: { "Content-Type" => "text/plain" })
 *   rescue Sandbox::HTTP::Error => e  # e.code == "EGRESS_DENIED", ...
 *
 * Wrong argument types raise TypeError, bad values ArgumentError, and the host is not asked.
 */

import { MAX_GUEST_REQUEST_BODY_BYTES, MAX_GUEST_URL_LENGTH } from "../../src/sandbox/host-call.js";
import { HTTP_DEVICE_PATH } from "../../wasm/host/http-device.js";
import { MAX_FRAME_HEADERS, MAX_METHOD_LENGTH } from "../../wasm/host/http-frame.js";

const SOURCE = String.raw`
require "json"

module Sandbox
  module HTTP
    DEVICE = __DEVICE__
    MAX_BODY_BYTES = __MAX_BODY__
    MAX_URL_LENGTH = __MAX_URL__
    MAX_HEADERS = __MAX_HEADERS__
    MAX_METHOD_LENGTH = __MAX_METHOD__
    TOKEN = /\A[!#$%&'*+\-.^_\x60|~0-9A-Za-z]+\z/
    READ_CHUNK = 1024 * 1024

    # The host refused or could not perform the request; #code is stable (EGRESS_DENIED, ...).
    class Error < StandardError
      attr_reader :code, :reason

      def initialize(code, reason)
        @code = code
        @reason = reason
        super("#{code}: #{reason}")
      end
    end

    # An HTTP response, whatever its status.
    class Response
      attr_reader :status, :reason, :header_pairs, :headers, :body, :url

      def initialize(status, reason, pairs, body, url, redirected)
        @status = status
        @reason = reason
        @header_pairs = pairs.map { |name, value| [name, value].freeze }.freeze
        merged = {}
        @header_pairs.each do |name, value|
          key = name.downcase
          merged[key] = merged.key?(key) ? "#{merged[key]}, #{value}" : value
        end
        @headers = merged.freeze
        @body = body
        @url = url
        @redirected = redirected
      end

      def redirected? = @redirected
      def ok? = status >= 200 && status < 300
      alias success? ok?

      # The value of header +name+ (case-insensitive; repeated headers joined with ", ").
      def [](name) = @headers[name.to_s.downcase]

      # The body as a String in the Content-Type charset (UTF-8 when none is given).
      def text
        charset = self["content-type"].to_s[/charset="?([^";\s]+)/i, 1]
        encoding = (Encoding.find(charset) rescue nil) || Encoding::UTF_8
        @body.dup.force_encoding(encoding)
      end

      def json = JSON.parse(text)

      def inspect = "#<Sandbox::HTTP::Response #{status} #{reason} #{url}>"
    end

    class << self
      def request(method, url, headers: {}, body: nil, redirect: :follow)
        frame = build_frame(method, url, headers, body, redirect)
        parse_reply(exchange(frame))
      end

      def get(url, headers: {}, redirect: :follow) = request("GET", url, headers: headers, redirect: redirect)
      def delete(url, headers: {}, redirect: :follow) = request("DELETE", url, headers: headers, redirect: redirect)
      def head(url, headers: {}, redirect: :follow) = request("HEAD", url, headers: headers, redirect: redirect)

      def post(url, body = nil, headers: {}, redirect: :follow)
        request("POST", url, headers: headers, body: body, redirect: redirect)
      end

      def put(url, body = nil, headers: {}, redirect: :follow)
        request("PUT", url, headers: headers, body: body, redirect: redirect)
      end

      def patch(url, body = nil, headers: {}, redirect: :follow)
        request("PATCH", url, headers: headers, body: body, redirect: redirect)
      end

      private

      def utf8(value, what)
        text = value.to_s
        raise ArgumentError, "#{what} is not valid text" unless text.dup.force_encoding(Encoding::UTF_8).valid_encoding?
        text.dup.force_encoding(Encoding::UTF_8)
      end

      def check_headers(headers)
        return [] if headers.nil?
        unless headers.is_a?(Hash) || headers.is_a?(Array)
          raise TypeError, "headers must be a Hash or an Array of [name, value] pairs, not #{headers.class}"
        end
        raise ArgumentError, "more than #{MAX_HEADERS} headers" if headers.size > MAX_HEADERS
        headers.map do |pair|
          unless pair.is_a?(Array) && pair.size == 2
            raise TypeError, "each header must be a [name, value] pair"
          end
          name, value = pair
          raise TypeError, "a header name must be a String or Symbol, not #{name.class}" unless name.is_a?(String) || name.is_a?(Symbol)
          raise TypeError, "a header value must be a String, not #{value.class}" unless value.is_a?(String)
          name = utf8(name, "a header name")
          value = utf8(value, "a header value")
          raise ArgumentError, "invalid header name #{name.inspect}" unless TOKEN.match?(name)
          raise ArgumentError, "the value of header #{name} contains CR, LF or NUL" if value.match?(/[\r\n\0]/)
          [name, value]
        end
      end

      def build_frame(method, url, headers, body, redirect)
        method = method.to_s if method.is_a?(Symbol)
        raise TypeError, "method must be a String, not #{method.class}" unless method.is_a?(String)
        unless method.size <= MAX_METHOD_LENGTH && TOKEN.match?(method)
          raise ArgumentError, "invalid method #{method.inspect}"
        end
        raise TypeError, "url must be a String, not #{url.class}" unless url.is_a?(String)
        url = utf8(url, "the url")
        raise ArgumentError, "the url must hold 1 to #{MAX_URL_LENGTH} characters" if url.empty? || url.size > MAX_URL_LENGTH
        redirect = redirect.to_s if redirect.is_a?(Symbol)
        raise ArgumentError, "redirect must be :follow or :manual" unless %w[follow manual].include?(redirect)
        pairs = check_headers(headers)
        unless body.nil? || body.is_a?(String)
          raise TypeError, "body must be a String or nil, not #{body.class}"
        end
        data = body&.b
        if data && data.bytesize > MAX_BODY_BYTES
          raise ArgumentError, "the body is #{data.bytesize} bytes; at most #{MAX_BODY_BYTES} may be sent"
        end
        head = JSON.generate(
          "method" => method.upcase, "url" => url, "headers" => pairs,
          "redirect" => redirect, "bodyLength" => data&.bytesize,
        )
        frame = head.b << "\n".b
        frame << data if data
        frame
      end

      def exchange(frame)
        File.open(DEVICE, File::RDWR | File::BINARY) do |io|
          written = 0
          written += io.syswrite(frame.byteslice(written..)) while written < frame.bytesize
          reply = "".b
          loop do
            reply << io.sysread(READ_CHUNK)
          rescue EOFError
            break
          end
          reply
        end
      end

      def parse_reply(reply)
        newline = reply.index("\n".b)
        raise Error.new("EGRESS_INTERNAL", "The host's reply was malformed.") unless newline
        head = JSON.parse(reply.byteslice(0, newline).force_encoding(Encoding::UTF_8))
        raise Error.new(head["code"].to_s, head["message"].to_s) unless head["ok"] == true
        body = reply.byteslice(newline + 1, reply.bytesize)
        raise Error.new("EGRESS_INTERNAL", "The host's reply was truncated.") unless body.bytesize == head["bodyLength"]
        Response.new(head["status"], head["statusText"], head["headers"], body, head["url"], head["redirected"])
      end
    end
  end
end
nil
`;

/** Evaluated in the snapshot interpreter after the bootstrap definition. */
export const SANDBOX_HTTP_DEFINITION = SOURCE.replace("__DEVICE__", JSON.stringify(HTTP_DEVICE_PATH))
  .replace("__MAX_BODY__", String(MAX_GUEST_REQUEST_BODY_BYTES))
  .replace("__MAX_URL__", String(MAX_GUEST_URL_LENGTH))
  .replace("__MAX_HEADERS__", String(MAX_FRAME_HEADERS))
  .replace("__MAX_METHOD__", String(MAX_METHOD_LENGTH));
